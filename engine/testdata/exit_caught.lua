-- os.exit ends the script even where errors are caught: args[1] says where.
local where = args[1]
if where == "pcall" then
  print(pcall(os.exit, 3))
elseif where == "xpcall" then
  print(xpcall(function() os.exit(3) end, function() return "handled" end))
elseif where == "resume" then
  print(coroutine.resume(coroutine.create(function() os.exit(3) end)))
elseif where == "wrap" then
  print(pcall(coroutine.wrap(function() os.exit(3) end)))
elseif where == "each" then
  print(inspect(wps.each({1}, function() os.exit(3) end)))
end
print("not reached")
