"""Load generator for OpenAI-compatible inference endpoints (`unitcost bench`)."""
