"""Library errors name Python arguments; the CLI shows its flags."""

import pytest

from wattwise import estimate
from wattwise.cli._flags import flagify
from wattwise.cli.main import main
from wattwise.errors import WattwiseError


def test_library_names_arguments_cli_names_flags(capsys):
    with pytest.raises(WattwiseError, match="`usd_per_gpu_hour`"):
        estimate(params=1e9, tokens=1e9, usd_per_gpu_hour=1.0, usd_per_kwh=0.1)
    with pytest.raises(SystemExit) as e:
        main(["estimate", "--params", "1e9", "--tokens", "1e9", "--price-per-gpu-hour", "1",
              "--electricity-price", "0.1"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--price-per-gpu-hour" in err and "--electricity-price" in err and "`" not in err


def test_flagify_leaves_unknown_names_and_prose_alone():
    assert flagify("give `power_w` or a `gpu` with a known TDP") == "give --power-w or a --gpu with a known TDP"
    assert flagify("`not_a_flag` and power_w") == "`not_a_flag` and power_w"
