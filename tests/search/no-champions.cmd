search --no-champions -n 3 --no-snippet 学院
