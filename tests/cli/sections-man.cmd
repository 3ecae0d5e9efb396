sections data/xiaogongju.1
