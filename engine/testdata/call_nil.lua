local function run()
  -- the next line calls a global that does not exist
  foo()
end
run()
