"""`unitcost demo`: the whole product on a laptop in one command, on labelled demo data."""
