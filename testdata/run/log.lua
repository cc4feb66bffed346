log.debug("debug line")
log.info("info line", {user = "u1", count = 2})
log.warn("warn line")
