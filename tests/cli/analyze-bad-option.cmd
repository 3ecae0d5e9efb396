analyze --bogus
