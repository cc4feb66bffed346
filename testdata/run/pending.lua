print("ready")
wps.send_to_all("this call never gets an answer")
print("not reached")
