analyze --no-fold 學院
