analyze ''
