"""The `firstmark` command: `main` parses the arguments and runs one command group's handler."""

from __future__ import annotations

from firstmark.cli.main import main

__all__ = ["main"]
