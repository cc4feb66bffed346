print("ready")
sleep(3600)
