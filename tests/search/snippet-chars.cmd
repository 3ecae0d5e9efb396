search --snippet-chars 12 耐心
