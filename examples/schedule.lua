-- The schedule file that the README runs with `wps cron`: each cron.job
-- declares a job. Every run loads this file again in a process of its own
-- and then runs one job, so the top level only declares.

-- Every 10 seconds, a heartbeat to every connection of the hub: the job to
-- watch on a first try.
cron.job{
  name = "heartbeat", schedule = "@every 10s", timeout = "5s",
  run = function(run)
    wps.send_to_all({type = "heartbeat", run = run.run_id, at = run.scheduled})
    print("heartbeat sent for " .. run.scheduled)
  end,
}

-- Weekdays at 09:00 in Berlin, whatever the machine's time zone.
cron.job{
  name = "standup", schedule = "0 9 * * MON-FRI", timezone = "Europe/Berlin",
  run = function()
    wps.send_to_group("team", "Stand-up in 5 minutes")
  end,
}

-- Sundays at 02:30 in Berlin, with a runbook: on the night the clocks
-- spring forward 02:30 does not exist, and the run starts at 03:00; on the
-- night they fall back it runs once (see --simulate in the README).
cron.job{
  name = "maintenance", schedule = "30 2 * * SUN", timezone = "Europe/Berlin",
  script = "../scripts/announce.lua",
  args = {"--group", "ops", "--ttl", "300", "Maintenance window: deploys are paused until 04:00"},
  timeout = "1m", retries = 2, retry_backoff = "30s",
}

-- Every 15 minutes, a digest that may take long: a run due while the last
-- one still goes waits for it rather than being skipped.
cron.job{
  name = "digest", schedule = "CRON_TZ=America/New_York */15 * * * *", overlap = "queue",
  jitter = "20s", starting_deadline = "5m",
  run = function()
    local members = wps.list_connections("ops")
    log.info("digest", {members = #members})
  end,
}
