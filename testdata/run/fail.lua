print("started")
error("boom")
