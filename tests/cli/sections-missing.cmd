sections data/nope.txt
