search 机床 -数控 --no-partial
