search '，。'
