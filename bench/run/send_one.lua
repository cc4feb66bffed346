-- send_one.lua sends one text message to every connection of a hub: the
-- wps side of `go run ./bench/run`. The service and hub come from
-- WEBPUBSUB_CONNECTION_STRING and WEBPUBSUB_HUB, as for send_one.mjs.
wps.send_to_all("hello from send_one")
