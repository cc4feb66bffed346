assert(io ~= nil and loadstring ~= nil and os.execute ~= nil)
print("full", require("testdata.required"))
