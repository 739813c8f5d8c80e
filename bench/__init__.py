"""Benchmarks (`make bench`): figures are ratios within one run, each with its command."""
