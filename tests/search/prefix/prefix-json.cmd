search --json -n 5 '数据库 xapi*'
