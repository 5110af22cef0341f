"""Shared pytest configuration."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    config.addinivalue_line("markers", "site: checks on the built website (run after `make book`)")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


# Grading tests that count the grading processes alive on the machine (test_grade.py's
# "no process is left behind") must not run beside another grading test. Under pytest-xdist
# (`make test-unit` runs `-n auto --dist loadgroup`) they form one scope, sent to one worker;
# every other test is its own scope. (xdist's own `xdist_group` marker relies on a node-id
# attribute pytest 9.2 no longer has, so the grouping is done here, by file.)
GRADER_FILES = ("tests/test_grade.py::", "tests/test_grade_holes.py::")


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GraderTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return "grader" if nodeid.startswith(GRADER_FILES) else nodeid

    return GraderTogether(config, log)
