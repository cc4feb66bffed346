-- Prints what the command line passed.
print(#args, table.concat(args, "|"), select("#", ...))
