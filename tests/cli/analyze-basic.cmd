analyze 久有歸天
