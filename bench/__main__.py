"""Dispatch ``python -m bench NAME ...`` to ``bench.NAME.main(argv)``."""

from __future__ import annotations

import importlib
import sys

NAMES = ("store", "crash", "sync", "server", "faults", "app", "abuse", "importer", "backup")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in NAMES:
        print(f"usage: python -m bench {{{','.join(NAMES)}}} --json PATH [options]")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(f"bench.{argv[0]}")
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
