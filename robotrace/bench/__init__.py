"""Benchmarks: `robotrace bench NAME` runs one and prints one JSON line.

Each benchmark is a module here with `add_arguments(parser)` and `run(options, progress)`,
listed in `registry.py`; what several of them need (a free port, a scratch project with its
own database, a server, CPU and memory from /proc, a rolled-back transaction) is in
`harness.py`. This is the top layer: nothing else in robotrace imports it.
"""
