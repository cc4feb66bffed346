// send_one.mjs sends one text message to every connection of a hub with the
// official @azure/web-pubsub SDK: the Node side of `go run ./bench/run`.
// The service and hub come from WEBPUBSUB_CONNECTION_STRING and
// WEBPUBSUB_HUB, as for send_one.lua. The local service speaks plain http,
// which Azure SDK pipelines refuse unless allowInsecureConnection is set.
import { WebPubSubServiceClient } from "@azure/web-pubsub";

const client = new WebPubSubServiceClient(
  process.env.WEBPUBSUB_CONNECTION_STRING,
  process.env.WEBPUBSUB_HUB || "hub",
  { allowInsecureConnection: true },
);
await client.sendToAll("hello from send_one", { contentType: "text/plain" });
