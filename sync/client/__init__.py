"""The phone's sync client: enrollment and the push+pull engine over ports.

- :mod:`.engine` — :class:`SyncEngine`, :class:`SyncSummary`, :class:`SyncProgress`,
  :class:`DeviceRevoked`;
- :mod:`.enrollment` — :func:`enroll` (transport, code, label) → :class:`Identity`;
- :mod:`.identity` — the enrolled :class:`Identity` (saved by the app, encrypted);
- :mod:`.batching` — the priority lane and batch sizes;
- :mod:`.ports` — :class:`OutboxPort` (the phone store) and :class:`Transport`;
- :mod:`.transport` — :class:`HttpTransport`, the project's only ``requests`` user;
- :mod:`.backoff` — :func:`full_jitter`, the one backoff for retries and the app's probe.
"""

from sync.client.backoff import full_jitter
from sync.client.engine import DeviceRevoked, SyncEngine, SyncProgress, SyncSummary
from sync.client.enrollment import enroll
from sync.client.identity import Identity
from sync.client.ports import OutboxPort, Transport, TransportResponse
from sync.client.transport import HttpTransport

__all__ = [
    "DeviceRevoked",
    "HttpTransport",
    "Identity",
    "OutboxPort",
    "SyncEngine",
    "SyncProgress",
    "SyncSummary",
    "Transport",
    "TransportResponse",
    "enroll",
    "full_jitter",
]
