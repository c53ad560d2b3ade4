"""The ``qabot`` command (console script ``qabot.cli:main``, or ``python -m qabot.cli``): ``app`` parses and runs,
``commands`` holds one function per subcommand."""

from qabot.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
