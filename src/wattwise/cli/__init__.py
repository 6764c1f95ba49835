"""The `wattwise` command (Typer + Rich). Thin: parses, calls the library, prints."""
