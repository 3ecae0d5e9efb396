sections --format pdf data/manual.md
