-- Run under --sandbox: tries every route to the default client's key and
-- connection string this author could think of, and prints all it finds.
-- run_test.go checks that neither appears anywhere in the output.
local function show(label, ...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) == "table" and inspect(v) or tostring(v)
  end
  print(label, table.concat(parts, " "))
end

-- The environment: none of it.
show("env", env("WEBPUBSUB_CONNECTION_STRING"), env("WEBPUBSUB_HUB"), env("HOME"), env("PATH", "default"))
show("getenv", os.getenv("WEBPUBSUB_CONNECTION_STRING"), os.getenv("HOME"), os.setenv)

-- What reads files, processes, other values' internals or code.
show("gone", io, debug, load, loadstring, dofile, loadfile, _printregs, os.execute, string.dump)
show("require", pcall(require, "io"), pcall(require, "debug"), pcall(require, "os"))

-- The default client, and what it hands out.
local hub = wps.hub("hub")
show("client", hub, inspect(hub), getmetatable(hub))
show("fields", hub.key, hub.access_key, hub.connection_string, hub.endpoint)
show("json", pcall(json.encode, hub))
show("token", wps.get_client_access_token({user_id = "probe", roles = {"webpubsub.joinLeaveGroup"}}))
show("status", pcall(wps.service_status))
show("call", pcall(wps.send_to_all, "probe"))
show("bad call", pcall(wps.send_to_group))
show("bad group", pcall(wps.send_to_group, "no spaces allowed", "x"))
show("other client", pcall(wps.client, {endpoint = "http://127.0.0.1:1", key = "probe-key"}))
local ok, conn = pcall(wps.connect, {user_id = "probe"})
show("connect", ok, conn, ok and inspect(conn) or "", ok and getmetatable(conn) or "")
if ok then conn:close() end

-- An error message, a traceback and a failed call with the default client.
show("error", pcall(error, hub))
show("xpcall", xpcall(function() return hub:no_such_method() end, function(m) return m end))

-- Everything reachable from the globals: every value, every metatable,
-- every function's environment.
local seen = {}
local function walk(v, path, depth)
  if seen[v] or depth > 12 then return end
  local kind = type(v)
  if kind == "table" or kind == "userdata" or kind == "function" or kind == "thread" then
    seen[v] = true
  end
  print("walk", path, tostring(v))
  if kind == "table" then
    for k, x in next, v do
      walk(k, path .. "[key]", depth + 1)
      walk(x, path .. "." .. tostring(k), depth + 1)
    end
  end
  if kind == "table" or kind == "userdata" or kind == "string" then
    local mt = getmetatable(v)
    if mt ~= nil then walk(mt, path .. "<mt>", depth + 1) end
  end
  if kind == "function" then
    local ok, fenv = pcall(getfenv, v)
    if ok then walk(fenv, path .. "<env>", depth + 1) end
  end
end
walk(_G, "_G", 0)
walk(getfenv(0), "env0", 0)
walk(hub, "hub", 0)
show("gc", collectgarbage("count"), collectgarbage())
print("done")
