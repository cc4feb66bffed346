print(io == nil, loadstring == nil, os.execute == nil)
