search -- -工匠
