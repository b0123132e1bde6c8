"""Fixtures of the SR tests, imported by them (no conftest: other vision tests share the
folder). The converted offline weights live in a per-session cache directory."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def sr_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("sr-cache")
        mp.setenv("SR_CACHE_DIR", str(path))
        mp.delenv("SR_WEIGHTS", raising=False)
        mp.delenv("SR_WEIGHTS_SHA256", raising=False)
        mp.delenv("UPSCALER", raising=False)
        yield path


@pytest.fixture(scope="session")
def anime_weights(sr_cache):
    from lib.vision.ncnn_convert import converted_animevideov3

    return converted_animevideov3()
