search --no-partial 工厂学校
