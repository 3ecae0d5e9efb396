analyze --json
