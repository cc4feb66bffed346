print("fine")
print("missing paren"
