package lib

func WindowsOnly() {}
