"""`make bench`: the benchmarks of docs/benchmarks.md (bench/run.py runs them)."""
