search --no-snippet 'zzz* 数据库'
