"""`unitcost emulate`: OpenAI-compatible endpoints that behave like real GPUs would, from physics.

Everything an emulated endpoint reports is labelled emulated (in /v1/models, in its metrics and
in the rows it writes), so an emulated figure is never mistaken for a measured one.
"""
