search 蚌埠工匠學院在哪裡成立的 -n 2
