import subprocess
import sys

HEAVY = ("numpy", "scipy", "torch", "matplotlib", "pynvml", "sqlite3", "typer", "rich", "pandas")


def test_import_wattwise_loads_nothing_heavy():
    code = ("import sys, wattwise; wattwise.estimate; wattwise.where; "
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (HEAVY,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import wattwise pulled in: {out}"


def test_estimate_without_heavy_imports():
    code = ("import sys, wattwise; wattwise.estimate(params=7e9, tokens=1.4e12, gpu='A100', region='FRA'); "
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (HEAVY,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_every_public_name_resolves():
    import wattwise
    for name in wattwise.__all__:
        assert getattr(wattwise, name) is not None, name
    assert callable(wattwise.estimate) and callable(wattwise.where)  # functions, not the same-named modules
