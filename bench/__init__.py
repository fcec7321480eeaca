"""Benchmarks against raw baselines (issue #9): ``python -m bench.run --size large``.

Every figure is measured side by side with its baseline in the same run and shown
as a ratio, because the machines are small and shared. See docs/performance.md.
"""
