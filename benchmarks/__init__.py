"""Benchmarks (not tests): scripts that print figures; results live in BENCHMARKS.md."""
