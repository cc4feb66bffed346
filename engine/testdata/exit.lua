print("before")
os.exit(tonumber(args[1]))
print("not reached")
