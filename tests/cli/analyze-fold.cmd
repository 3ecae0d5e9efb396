analyze 學院
