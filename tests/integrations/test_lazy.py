"""`import wattwise` and `import wattwise.integrations` load no framework; each integration loads its own."""

import subprocess
import sys

FRAMEWORKS = ("torch", "transformers", "lightning", "pytorch_lightning", "mlflow", "wandb", "accelerate")


def _loaded(code: str) -> set[str]:
    probe = (f"{code}; import sys; "
             f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({FRAMEWORKS!r}))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return set(filter(None, out.split(",")))


def test_integrations_package_is_light():
    assert _loaded("import wattwise, wattwise.integrations; wattwise.integrations.metrics(None)") == set()


def test_sinks_load_neither_mlflow_nor_wandb_until_used():
    assert _loaded("import wattwise.integrations.sinks") == set()
