"""Studies that measure the product on simulated boards with a known truth.

Imported only by `benchmarks/` and `tests/`: nothing in the pipeline depends on them.
"""
