-- Catching the interruption must not keep the script alive.
print("ready")
while true do
  pcall(sleep, 3600)
end
