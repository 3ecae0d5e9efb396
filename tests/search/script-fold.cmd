search 职业教育
