import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory):
    """Trackers read no user config and write no default ledger."""
    home = tmp_path_factory.mktemp("wattwise_home")
    old = {k: os.environ.get(k) for k in ("WATTWISE_HOME", "WATTWISE_CONFIG", "WATTWISE_REGION", "WATTWISE_PUE")}
    os.environ["WATTWISE_HOME"] = str(home)
    os.environ["WATTWISE_CONFIG"] = str(home / "none.toml")
    os.environ.pop("WATTWISE_REGION", None)
    os.environ.pop("WATTWISE_PUE", None)
    yield home
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def quick_sweep(tmp_path_factory, _isolated_home):
    """The --quick sweep, run in-process once per test session: (result, ledger path).

    Under pytest-xdist the workers share one ledger behind a file lock: the first runs the sweep, the others
    resume it (every run already finished: zero new runs, a few seconds)."""
    import fcntl

    from wattwise.scaling.sweep import quick_config, run_sweep

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    d = root / "quick_sweep"
    d.mkdir(exist_ok=True)
    ledger = str(d / "ledger.db")
    with open(d / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res = run_sweep(quick_config(), ledger=ledger, out_dir=d / "out", bootstrap=200, bootstrap3=20)
    return res, ledger
