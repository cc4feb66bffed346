print("red\27[31mtext\rover", "tab\tand")
error("clear\27[2Jscreen")
