"""Benchmark commands behind `python -m fastdl bench <name>`."""
