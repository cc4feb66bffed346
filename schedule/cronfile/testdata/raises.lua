cron.job{name = "a", schedule = "@daily", run = function() end}
local x = nil
x.field = 1
