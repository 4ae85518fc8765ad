"""HTTP transport over ``requests``: the only module in the project that imports it.

Timeouts on every call (connect 5 s, read 30 s). Failures that are safe to repeat — connection
errors, read timeouts and 502/503/504 — are retried with capped exponential backoff and full
jitter (AWS architecture blog, "Exponential Backoff And Jitter"): a sync POST is idempotent
because the server keys it by batch id. ``requests`` exceptions are mapped to ``SyncError`` here
and nowhere else.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import requests

from sync.client.ports import Transport, TransportResponse
from sync.errors import SyncError
from sync.protocol import HEALTH_PATH, MAX_BODY_BYTES

__all__ = ["HttpTransport", "Transport", "TransportResponse"]

RETRY_STATUSES = frozenset({502, 503, 504})
_CHUNK = 64 * 1024


class HttpTransport:
    """A :class:`Transport` talking to ``base_url`` (e.g. ``"http://10.0.0.2:8700"``)."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_body: int = MAX_BODY_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_body = max_body
        self._sleep = sleep
        self._rand = rand
        self._session = session or requests.Session()

    def post(self, path: str, body: bytes, content_type: str) -> TransportResponse:
        return self._send("POST", path, data=body, headers={"Content-Type": content_type})

    def get(self, path: str) -> TransportResponse:
        return self._send("GET", path)

    def reachable(self, timeout: float = 2.0) -> bool:
        """A cheap probe: does ``GET /healthz`` answer ``{"ok": true}`` within ``timeout``?"""
        try:
            resp = self._session.get(self.base_url + HEALTH_PATH, timeout=(timeout, timeout))
            return resp.status_code == 200 and resp.json().get("ok") is True
        except (requests.RequestException, ValueError, AttributeError):
            return False

    def close(self) -> None:
        self._session.close()

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in ``[0, min(cap, base * 2**attempt))``."""
        return self._rand() * min(self.backoff_cap, self.backoff_base * 2**attempt)

    def _send(self, method: str, path: str, **kwargs: Any) -> TransportResponse:
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self._once(method, url, **kwargs)
            except requests.ConnectionError as exc:  # includes ConnectTimeout
                if last:
                    raise SyncError("sync.unreachable", reason=type(exc).__name__) from exc
            except requests.Timeout as exc:
                if last:
                    raise SyncError("sync.timeout", seconds=self.read_timeout) from exc
            except requests.RequestException as exc:
                raise SyncError("sync.unreachable", reason=type(exc).__name__) from exc
            else:
                if resp.status not in RETRY_STATUSES or last:
                    return resp
            self._sleep(self.backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns/raises

    def _once(self, method: str, url: str, **kwargs: Any) -> TransportResponse:
        with self._session.request(
            method,
            url,
            timeout=(self.connect_timeout, self.read_timeout),
            stream=True,
            **kwargs,
        ) as resp:
            body = bytearray()
            for chunk in resp.iter_content(_CHUNK):
                body += chunk
                if len(body) > self.max_body:
                    raise SyncError("sync.too_large", limit=self.max_body)
            headers = {k.lower(): v for k, v in resp.headers.items()}
            return TransportResponse(resp.status_code, bytes(body), headers)
