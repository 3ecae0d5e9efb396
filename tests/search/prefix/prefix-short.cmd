search 'x*'
