search 学院 工厂 课程
