"""schemathesis against the running server's ``/openapi.json``: no 5xx for any generated input.

The served document describes the request bodies (the enroll JSON object and the sync frame as
``application/octet-stream``) although the routes read them raw. Every generated request must get
a coded answer below 500.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from bench.harness import LiveServer


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> Any:
    served = httpx.get(f"{live.url}/openapi.json", timeout=10).json()
    assert {"/healthz", "/v1/enroll", "/v1/sync"} <= set(served["paths"])
    for path in ("/v1/enroll", "/v1/sync"):
        assert served["paths"][path]["post"]["requestBody"]["required"] is True
    schema = schemathesis.openapi.from_dict(served)
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
