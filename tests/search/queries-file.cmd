search --queries queries.txt -n 1
