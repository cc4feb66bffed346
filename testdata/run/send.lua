-- Talks to the default client's service.
assert(wps.service_status(), "service is not healthy")
wps.send_to_all("hello from a script")
print("sent", wps.group_exists("nobody-here"))
