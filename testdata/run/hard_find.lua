-- A pattern that backtracks for hours inside one string.find call, which
-- no context check reaches: wps must stop it hard.
print("ready")
print(("a"):rep(40):find(("a?"):rep(40) .. ("a"):rep(40)))
