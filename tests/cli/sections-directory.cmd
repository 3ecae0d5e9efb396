sections data
