search 焊接 OR 保养 --no-partial
