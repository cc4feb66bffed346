local err = setmetatable({status = 403, operation = "send_to_group"}, {
  __tostring = function(e) return "wps: " .. e.operation .. ": " .. e.status .. " Forbidden" end,
})
error(err)
