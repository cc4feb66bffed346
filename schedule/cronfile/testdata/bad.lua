cron.job{name = "ok", schedule = "@daily", run = function() end}
cron.job{name = "badsched", schedule = "0 25 * * *", run = function() end}
cron.job{name = "typo", schedule = "@daily", timout = "1m", run = function() end}
cron.job{name = "ok", schedule = "@hourly", run = function() end}
cron.job{name = "noscript", schedule = "@daily", script = "scripts/missing.lua"}
cron.job{name = "both", schedule = "@daily", script = "scripts/echo.lua", run = function() end}
cron.job{schedule = "@daily", run = function() end}
cron.job{name = "panics", schedule = "TZ=0", run = function() end}
cron.job{name = "zone", schedule = "@daily", timezone = "Mars/Olympus", run = function() end}
cron.job{name = "neither", schedule = "@daily"}
cron.job{name = "when", schedule = "@daily", timeout = "soon", run = function() end}
cron.job("x", "@daily")
