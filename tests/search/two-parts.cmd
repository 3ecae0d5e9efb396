search 学院 工厂
