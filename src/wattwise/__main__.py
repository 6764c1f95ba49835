"""`python -m wattwise` = the `wattwise` command."""

from .cli.main import main

main()
