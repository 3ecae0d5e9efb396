search --explain --no-snippet 'inst*'
