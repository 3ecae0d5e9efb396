search 'xapi*'
