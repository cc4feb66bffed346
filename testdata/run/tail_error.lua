-- Ten million tail calls, then an error: the traceback must stay short.
local function f(n) if n == 0 then error("x") end return f(n - 1) end
f(1e7)
