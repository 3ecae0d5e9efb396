search -n 2 --offset 2 --no-snippet 学院
