-- Helpers shared by the runbooks' tests: require("runbook") (wps test puts
-- the test file's folder on package.path).

local M = {}

-- M.path returns the path of scripts/NAME.lua, relative to the tests in
-- this folder (run_script resolves it from the test file's folder).
function M.path(name)
  return "../../../scripts/" .. name .. ".lua"
end

-- M.lines returns the lines of text; sorted when sort is true (the rows
-- of wps.each's concurrent work come in any order).
function M.lines(text, sort)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  if sort then table.sort(out) end
  return out
end

-- M.sorted returns the list, sorted.
function M.sorted(list)
  table.sort(list)
  return list
end

-- M.refuses declares a test per case ({args = {...}, error = "..."}):
-- the runbook exits 2 with the error, before any REST call.
function M.refuses(script, cases)
  describe("refuses bad arguments before any call", function()
    for _, case in ipairs(cases) do
      it(table.concat(case.args, " "), function()
        local r = run_script(script, unpack(case.args))
        assert.equal(2, r.status)
        assert.match(case.error, r.error, 1, true)
        assert.same({}, fixture.requests())
      end)
    end
  end)
end

return M
