print("echo", table.concat(args, " "))
