import warnings

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "compile: runs torch.compile (tens of seconds on a small CPU)")


@pytest.fixture(autouse=True)
def _quiet_torchao():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield
