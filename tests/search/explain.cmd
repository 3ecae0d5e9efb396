search --explain --no-snippet -n 1 '工匠 (学院 OR 工厂) -焊接 title:手册'
