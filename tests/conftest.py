"""Shared pytest configuration."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    config.addinivalue_line("markers", "site: checks on the built website (run after `make book`)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
