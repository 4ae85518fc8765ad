"""schemathesis against the running server's ``/openapi.json``: no 5xx for any generated input.

The served document does not describe the request bodies (the routes read raw bodies), so the
test adds them from ``docs/protocol.md`` before loading it: the enroll JSON object and the sync
frame as ``application/octet-stream``. Every generated request must get a coded answer below 500.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from bench.harness import LiveServer

ENROLL_BODY = {
    "type": "object",
    "properties": {
        "v": {"type": "integer"},
        "code_id": {"type": "string"},
        "signing_public": {"type": "string"},
        "sealing_public": {"type": "string"},
        "label": {"type": "string"},
        "proof": {"type": "string"},
    },
    "required": ["v", "code_id", "signing_public", "sealing_public", "label", "proof"],
}
SYNC_BODY = {"type": "string", "format": "binary"}


def with_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """The served OpenAPI document plus the request bodies the routes read themselves."""
    doc = copy.deepcopy(document)
    paths = doc["paths"]
    paths["/v1/enroll"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": ENROLL_BODY}},
    }
    paths["/v1/sync"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/octet-stream": {"schema": SYNC_BODY}},
    }
    return doc


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> Any:
    served = httpx.get(f"{live.url}/openapi.json", timeout=10).json()
    assert {"/healthz", "/v1/enroll", "/v1/sync"} <= set(served["paths"])
    schema = schemathesis.openapi.from_dict(with_bodies(served))
    schema.config.update(base_url=live.url)
    return schema


OPERATIONS = [("GET", "/healthz"), ("POST", "/v1/enroll"), ("POST", "/v1/sync")]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_server_error(live: LiveServer, api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]
    cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )
    seen: list[int] = []

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def generated(case: Any) -> None:
        response = case.call(base_url=live.url, timeout=30)
        seen.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    generated()
    assert seen and max(seen) < 500, seen
