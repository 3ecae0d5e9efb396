sections data/manual.md
