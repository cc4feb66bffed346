print("ready")
sleep(3600)
print("not reached")
