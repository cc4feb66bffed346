#!/usr/bin/env -S wps run
print("shebang ok")
error("line three")
