search '"焊接课程"'
