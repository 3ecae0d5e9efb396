analyze --json 'Xapian-C 2023年8月'
