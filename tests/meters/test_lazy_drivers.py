import subprocess
import sys

DRIVERS = ("psutil", "amdsmi", "pynvml", "plistlib")


def test_building_the_default_chains_imports_no_driver():
    code = ("import sys, wattwise; from wattwise.tracker.chain import default_candidates; "
            "c = default_candidates(None); [f() for fs in c.values() for f in fs]; "
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in %r)))" % (DRIVERS[:3],))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"constructing the meters pulled in: {out}"
