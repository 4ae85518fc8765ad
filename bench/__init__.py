"""Benchmarks: ``python -m bench NAME --json PATH [options]``. Each prints a table and writes JSON."""
