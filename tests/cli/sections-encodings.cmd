sections data/rules-big5.txt data/rules-gbk.txt
