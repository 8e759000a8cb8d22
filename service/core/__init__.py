"""Wavegate's pure core: plans, patterns, territories, gates and every user-facing text.

Nothing in this package does I/O or imports flask, github, rq, redis or requests
(``tests/test_architecture.py`` enforces it).
"""
