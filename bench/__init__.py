"""Benchmarks: each bench_*.py has main() that writes a markdown report to bench/results/."""
