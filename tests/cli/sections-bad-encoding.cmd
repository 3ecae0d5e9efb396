sections --encoding nope data/manual.md
