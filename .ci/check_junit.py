"""Fail unless every named test suite (tests/<suite>/) ran at least one test and none failed."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter


def main(path: str, suites: list[str]) -> int:
    root = ET.parse(path).getroot()
    ran: Counter[str] = Counter()
    bad = 0
    for case in root.iter("testcase"):
        parts = case.get("classname", "").split(".")
        suite = parts[1] if len(parts) > 1 and parts[0] == "tests" else "?"
        if case.find("skipped") is None:
            ran[suite] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            bad += 1
    for suite in suites:
        print(f"  tests/{suite}: {ran[suite]} ran")
    empty = [s for s in suites if ran[s] == 0]
    if empty or bad:
        print(f"FAIL: suites with no tests run: {empty}; failed or errored: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
