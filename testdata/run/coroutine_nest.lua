-- Each coroutine starts another inside itself, without end.
local function f() coroutine.wrap(f)() end
f()
