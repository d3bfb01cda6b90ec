"""own-util."""
