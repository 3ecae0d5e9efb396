search --json -n 2 机床
