sections data/page.html
