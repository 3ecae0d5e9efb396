sections --json data/records.jsonl
