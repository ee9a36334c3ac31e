"""Benchmark scripts, run as files (``python bench/<name>.py``); a package so they share helpers."""
