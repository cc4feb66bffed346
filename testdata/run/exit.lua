os.exit(4)
