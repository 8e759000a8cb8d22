"""Tests of the GitHub emulator, and the reusable contract validators (openapi.py, webhook_schemas.py)."""
