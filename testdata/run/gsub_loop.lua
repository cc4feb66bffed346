-- Replaces 50 million characters, again and again, for longer than any
-- timeout of the tests.
print("ready")
for _ = 1, 1e6 do
  local s = string.rep("a", 5e7):gsub("a", "bb")
end
