"""schemathesis over the served OpenAPI document: no 5xx, every response as documented.

The bounded run (a fixed derandomized seed, a few examples per operation) is part of the
normal suite; `pytest -m fuzz_long` runs many more examples per operation.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from lib.config import Settings
from lib.storage import LocalDirStore
from web.app import create_app

_ROOT = Path(tempfile.mkdtemp(prefix="fuzz-"))
atexit.register(shutil.rmtree, _ROOT, True)
APP = create_app(Settings(data_dir=_ROOT), store=LocalDirStore(_ROOT / "objects"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
BOUNDED_EXAMPLES = 3
LONG_EXAMPLES = 100
_COMMON = {"derandomize": True, "deadline": None, "database": None,
           "suppress_health_check": list(HealthCheck),
           "phases": [Phase.explicit, Phase.generate]}


STATS = {"requests": 0, "5xx": 0}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nschemathesis: {STATS['requests']} requests, {STATS['5xx']} answered 5xx")


def _call(case) -> None:
    STATS["requests"] += 1
    response = case.call()
    STATS["5xx"] += response.status_code >= 500
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=BOUNDED_EXAMPLES, **_COMMON)
def test_api_conforms_bounded(case):
    _call(case)


@pytest.mark.fuzz_long
@schema.parametrize()
@settings(max_examples=LONG_EXAMPLES, **_COMMON)
def test_api_conforms_long(case):
    _call(case)


def test_the_checks_catch_an_undocumented_answer():
    """The run can fail: a response outside the document is a violation."""
    import json

    from schemathesis.core.failures import FailureGroup

    operation = schema["/api/settings"]["GET"]
    case = operation.Case()
    original = APP.openapi_schema
    try:
        APP.openapi_schema = json.loads(json.dumps(original))
        del APP.openapi_schema["paths"]["/api/settings"]["get"]["responses"]["200"]
        strict = schemathesis.openapi.from_asgi("/openapi.json", APP)
        with pytest.raises(FailureGroup):
            strict["/api/settings"]["GET"].Case().call_and_validate(checks=CHECKS)
    finally:
        APP.openapi_schema = original
    case.call_and_validate(checks=CHECKS)
