if true then
  print("never closed")
