search -n x 工匠
