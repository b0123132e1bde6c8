"""One detector (one onnxruntime session) for all vision tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def detector():
    from lib.vision.detect import PersonDetector

    return PersonDetector()
