"""Benchmarks: accuracy against labelled datasets and latency per pipeline stage."""
