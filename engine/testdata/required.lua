return "required module"
