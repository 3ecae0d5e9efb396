search --no-snippet '木匠工* xapi*'
