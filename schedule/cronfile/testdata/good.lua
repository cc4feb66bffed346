-- A schedule file of every kind of job.
local team = "team"

cron.job{name = "standup", schedule = "0 9 * * MON-FRI", timezone = "Europe/Berlin",
  run = function(run) print("stand-up for " .. team, run.job, run.run_id, run.attempt) end}

cron.job{
  name = "digest", schedule = "CRON_TZ=America/New_York 30 17 * * *",
  script = "scripts/echo.lua", args = {"--group", "ops", 42},
  timeout = "2m", overlap = "queue", retries = 2, retry_backoff = 5, jitter = "1.5s",
  starting_deadline = "10m",
}

cron.job{name = "fail", schedule = "@every 1s", run = function() error("boom") end}
cron.job{name = "exit0", schedule = "@hourly", run = function() os.exit(0) end}
cron.job{name = "busy", schedule = "@hourly", timeout = 0.2, run = function() while true do end end}
