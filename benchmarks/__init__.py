"""Benchmarks of export-widget: `python -m benchmarks --help`.

Each module measures one thing against a real server process on a seeded demo workspace;
`__main__` runs them at each size and prints one table. Speed is measured here, never
asserted in tests.
"""
