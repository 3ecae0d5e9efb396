search 工匠學院
