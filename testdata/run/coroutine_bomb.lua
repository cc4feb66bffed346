-- Keeps a million coroutines, each a Lua state of its own.
local t = {}
for i = 1, 1e6 do t[i] = coroutine.create(print) end
