"""The ``baas`` console script: imports the CLI inside a guard, so that Ctrl-C while Python is
still loading modules exits quietly (status 130) instead of printing a traceback."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from baas.cli.app import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("aborted\n")
        return 130
    return cli_main()
