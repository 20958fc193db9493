"""`python -m unitcost` runs the CLI (the same entry point as the `unitcost` script)."""

from unitcost.cli import main

main()
