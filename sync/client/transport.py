"""HTTP transport over ``requests``: the only module in the project that imports it.

Timeouts on every call (connect 5 s, read 30 s). Failures that are safe to repeat — connection
errors, read timeouts and 502/503/504 — are retried by urllib3's :class:`~urllib3.util.Retry` on
the session's adapter, waiting :func:`sync.client.backoff.full_jitter` between attempts, or the
server's ``Retry-After`` when it sends one (a busy server answers 503 with ``Retry-After``).
``requests`` exceptions are mapped to ``SyncError`` in :func:`_coded`, and nowhere else.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from sync.client.backoff import full_jitter
from sync.client.ports import Transport, TransportResponse
from sync.errors import SyncError
from sync.protocol import HEALTH_PATH, MAX_BODY_BYTES

__all__ = ["HttpTransport", "Transport", "TransportResponse"]

RETRY_STATUSES = frozenset({502, 503, 504})
#: POST is retried too: ``/v1/sync`` is idempotent — the server stores each batch's answer under
#: its batch id and answers a repeat with it, and an op id is applied at most once
#: (docs/protocol.md, "Idempotency"); enrollment codes are single-use and answered with a MAC.
RETRY_METHODS = frozenset({"GET", "POST"})
_CHUNK = 64 * 1024


class _Retry(Retry):
    """urllib3's retry policy, waiting the project's full-jitter backoff (or ``Retry-After``,
    at most ``retry_after_cap`` seconds) through an injectable ``sleep``."""

    backoff_fn: Callable[[int], float] = staticmethod(lambda attempt: 0.0)
    sleep_fn: Callable[[float], None] = staticmethod(time.sleep)
    retry_after_cap: float = 60.0

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.backoff_fn, retry.sleep_fn = self.backoff_fn, self.sleep_fn
        retry.retry_after_cap = self.retry_after_cap
        return retry

    def get_backoff_time(self) -> float:
        return self.backoff_fn(len(self.history) - 1) if self.history else 0.0

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        after = self.get_retry_after(response) if response is not None else None
        if after is not None and self.respect_retry_after_header:
            self.sleep_fn(min(after, self.retry_after_cap))
        else:
            self.sleep_fn(self.get_backoff_time())


class HttpTransport:
    """A :class:`Transport` talking to ``base_url`` (e.g. ``"http://10.0.0.2:8700"``).

    A context manager: ``with HttpTransport(url) as t: ...`` closes its connections."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        retry_after_cap: float = 60.0,
        max_body: int = MAX_BODY_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_body = max_body
        self._backoff = partial(full_jitter, base=backoff_base, cap=backoff_cap, rand=rand)
        self._session = session or requests.Session()
        retry = _Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            redirect=0,
            allowed_methods=RETRY_METHODS,
            status_forcelist=RETRY_STATUSES,
            raise_on_status=False,  # after the last retry, the busy answer itself comes back
            respect_retry_after_header=True,
        )
        retry.backoff_fn, retry.sleep_fn, retry.retry_after_cap = (
            self.backoff,
            sleep,
            retry_after_cap,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        # the probe asks once: its caller decides when to ask again
        self._session.mount(self.base_url + HEALTH_PATH, HTTPAdapter(max_retries=0))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
        """Seconds before retry ``attempt`` (0 = the first): :func:`full_jitter`."""
        return self._backoff(attempt)

    def _send(self, method: str, path: str, **kwargs: Any) -> TransportResponse:
        try:
            return self._once(method, self.base_url + path, **kwargs)
        except requests.RequestException as exc:
            raise _coded(exc, self.read_timeout) from exc

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


def _coded(exc: requests.RequestException, read_timeout: float) -> SyncError:
    """The project's coded error for a failure left after the retries: a read that timed out
    (possibly wrapped in urllib3's ``MaxRetryError``) is ``sync.timeout``, anything else
    (refused, reset, DNS, connect timeout) ``sync.unreachable``."""
    cause = exc.args[0] if exc.args else None
    last = getattr(cause, "reason", cause)  # MaxRetryError carries the last attempt's error
    if isinstance(exc, requests.ReadTimeout) or isinstance(last, ReadTimeoutError):
        return SyncError("sync.timeout", seconds=read_timeout)
    return SyncError("sync.unreachable", reason=type(exc).__name__)
