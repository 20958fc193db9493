"""The analytics layer: every figure unitcost shows is defined once, here or in sql/views.

The CLI (`unitcost kpi`, `unitcost recommend`), the dashboard and the quarterly review all call
these functions; none of them computes a figure a second way.
"""
