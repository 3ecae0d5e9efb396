sections data/manual-copy.md.gz
