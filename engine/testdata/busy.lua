-- The loop is on the line that prints "ready", so that an interruption
-- once the script is ready is always reported at line 3.
local n = 0 print("ready") while true do n = n + 1 end
