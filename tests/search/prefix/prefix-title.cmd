search 'title:inst*'
