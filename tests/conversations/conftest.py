"""A hall on the fake backend over each test database: the ``hall`` fixture of ``tests/conftest.py``."""
