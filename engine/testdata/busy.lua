print("ready")
local n = 0
while true do n = n + 1 end -- one line, so that the interruption is always reported at line 3
