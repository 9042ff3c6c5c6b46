"""Command-line interface (Typer + rich). Imports everything, imported by nothing."""
