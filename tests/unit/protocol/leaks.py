"""Looking for a secret in captured bytes, in every form the bytes could hold it."""

from __future__ import annotations

import json


def encoded_forms(text: str) -> list[bytes]:
    """``text`` as captured bytes could hold it: UTF-8, UTF-16 (both orders), JSON-escaped."""
    return [
        text.encode("utf-8"),
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
        json.dumps(text).strip('"').encode("ascii"),
    ]
