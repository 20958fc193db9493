"""SQL shipped as package data: migrations/, views/, queries/, checks/ (loaded by name)."""
