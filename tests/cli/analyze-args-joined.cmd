analyze 工匠 學院
