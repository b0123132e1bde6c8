"""The ncnn → state-dict converter against the wheel's own bytes, and spandrel's view of it."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from lib.vision.checksum import file_sha256
from lib.vision.ncnn_convert import (
    FP16_TAG,
    NcnnFormatError,
    convert,
    converted_animevideov3,
    wheel_model_files,
)
from lib.vision.sr_model import load_model, model_name
from tests.vision import sr_support

sr_cache, anime_weights = sr_support.sr_cache, sr_support.anime_weights  # fixtures


def test_compact_weights_match_the_ncnn_file():
    param, blob = wheel_model_files()
    sd = convert(param, blob, "compact")
    assert len(sd) == 53
    assert sum(t.numel() for t in sd.values()) == 621_424
    assert sd["body.0.weight"].shape == (64, 3, 3, 3)
    assert sd["body.1.weight"].shape == (64,)  # PReLU slopes
    assert sd["body.2.weight"].shape == (64, 64, 3, 3)
    assert sd["body.34.weight"].shape == (48, 64, 3, 3)
    assert sd["body.34.bias"].shape == (48,)
    # Read a few values straight from the blob: conv 0 is tagged fp16, then fp32 bias, then
    # the first PReLU's fp32 slopes; the file ends with the last conv's fp32 bias.
    assert struct.unpack_from("<I", blob, 0)[0] == FP16_TAG
    first = np.frombuffer(blob, np.float16, 5, 4).astype(np.float32)
    assert torch.equal(sd["body.0.weight"].flatten()[:5], torch.from_numpy(first))
    bias0 = np.frombuffer(blob, np.float32, 64, 4 + 1728 * 2)
    assert torch.equal(sd["body.0.bias"], torch.from_numpy(bias0.copy()))
    slopes = np.frombuffer(blob, np.float32, 64, 4 + 1728 * 2 + 64 * 4)
    assert torch.equal(sd["body.1.weight"], torch.from_numpy(slopes.copy()))
    last = np.frombuffer(blob, np.float32, 48, len(blob) - 48 * 4)
    assert torch.equal(sd["body.34.bias"], torch.from_numpy(last.copy()))


def test_spandrel_loads_the_converted_file(anime_weights):
    path, sha = anime_weights
    assert sha == file_sha256(path)
    descriptor = load_model(path, sha)
    assert (descriptor.architecture.name, descriptor.scale) == ("RealESRGAN Compact", 4)
    assert model_name(descriptor, path) == "realesr-animevideov3"


def test_rrdb_conversion_loads_as_esrgan(tmp_path):
    sd = convert(*wheel_model_files("REALESRGAN_X4PLUSANIME_UP4X"), "rrdb")
    assert sum(t.numel() for t in sd.values()) == 4_467_779
    path = tmp_path / "anime6b.pth"
    torch.save(sd, path)
    descriptor = load_model(path, file_sha256(path))
    assert (descriptor.architecture.name, descriptor.scale) == ("ESRGAN", 4)


def test_cache_converts_once_and_repairs_a_damaged_file(anime_weights):
    path, sha = anime_weights
    stamp = path.stat().st_mtime_ns
    assert converted_animevideov3() == (path, sha)
    assert path.stat().st_mtime_ns == stamp
    path.write_bytes(b"half a file")
    assert converted_animevideov3() == (path, sha)
    assert file_sha256(path) == sha


def test_bad_files_are_rejected():
    param, blob = wheel_model_files()
    with pytest.raises(NcnnFormatError, match="magic"):
        convert("7767518\n" + param.split("\n", 1)[1], blob)
    with pytest.raises(NcnnFormatError, match="shorter"):
        convert(param, blob[:-8])
    with pytest.raises(NcnnFormatError, match="longer"):
        convert(param, blob + b"\0\0\0\0")
    with pytest.raises(NcnnFormatError, match="RRDBNet"):
        convert(param, blob, "rrdb")
