"""The store suite: one contract on every backend (see conftest.py)."""
