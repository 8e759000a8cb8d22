"""Wavegate's test suite."""
