sections --encoding big5 data/rules-big5.txt
