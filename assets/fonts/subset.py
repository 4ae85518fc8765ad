"""Rebuild NotoSansSC-subset.otf from Debian's fonts-noto-cjk (GB2312 + ASCII + CJK punctuation).

Flutter draws text with its own fonts and ignores the system's, so the app bundles this subset
(~3 MB) to show Chinese offline. Run: ``python assets/fonts/subset.py`` (needs fonttools).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SC_INDEX = 2  # the face "Noto Sans CJK SC" inside the collection
EXTRA = "·—–…“”‘’、。，！？：；（）《》【】￥％＋－×÷℃①②③④⑤⑥⑦⑧⑨⑩"


def gb2312() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA)
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):  # unassigned code points
                chars.add(bytes([hi, lo]).decode("gb2312"))
    return "".join(sorted(chars))


def main() -> int:
    out = Path(__file__).with_name("NotoSansSC-subset.otf")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(gb2312())
    return subprocess.call(
        [
            sys.executable,
            "-m",
            "fontTools.subset",
            SOURCE,
            f"--font-number={SC_INDEX}",
            f"--text-file={f.name}",
            f"--output-file={out}",
            "--layout-features=*",
            "--no-hinting",
            "--desubroutinize",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
