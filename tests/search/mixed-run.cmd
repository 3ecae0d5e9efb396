search 2023年8月
