"""Loading Real-ESRGAN weights: sha256 check, spandrel, a name for the job result, conv FLOPs.

Every failure to get a usable model raises `WeightsError` with one plain sentence, which the
chooser turns into a Lanczos result that says why (never a failed export).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import torch

# Production weights are recognised by their shape: general-x4v3 has 32 body convs,
# animevideov3 16 (both SRVGGNetCompact, 64 features, ×4).
COMPACT_NAMES = {32: "realesr-general-x4v3", 16: "realesr-animevideov3"}

_torchvision_stub: torch.library.Library | None = None


class WeightsError(Exception):
    """The super-resolution weights cannot be used; the message says why."""


def _allow_torchvision_without_ops() -> None:
    """Let torchvision import when its C++ ops cannot load (PyPI's CUDA build of torchvision
    beside a CPU torch): its module init registers fake kernels for `nms`/`qnms`, which fails
    when those operators were never defined. Defining their schemas (no kernels) is enough;
    spandrel only needs torchvision's Python transforms, never these ops. No-op where the
    extension loads (the GPU image)."""
    global _torchvision_stub
    if _torchvision_stub is not None or "torchvision" in sys.modules:
        return
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return
    for lib in Path(spec.origin).parent.glob("_C*.so"):
        try:
            torch.ops.load_library(str(lib))
            return
        except OSError:
            break
    stub = torch.library.Library("torchvision", "DEF")  # noqa: TOR901 (schemas only)
    stub.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    stub.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _torchvision_stub = stub


def model_loader() -> Any:
    _allow_torchvision_without_ops()
    from spandrel import ModelLoader

    return ModelLoader()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path, sha256: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"The super-resolution weights {path} are missing.") from None
    except OSError as err:
        raise WeightsError(f"The super-resolution weights {path} cannot be read "
                           f"({err.strerror}).") from None
    actual = sha256_bytes(data)
    if actual != sha256.strip().lower():
        raise WeightsError(f"The super-resolution weights {path} have sha256 {actual[:12]}…, "
                           f"not the expected {sha256.strip()[:12]}….")
    return data


def load_model(path: Path, sha256: str) -> Any:
    """The spandrel ImageModelDescriptor for a verified ×4 Real-ESRGAN state dict (on CPU)."""
    import io

    data = read_verified(path, sha256)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "params_ema" in state:
            state = state["params_ema"]
        elif isinstance(state, dict) and "params" in state:
            state = state["params"]
        descriptor = model_loader().load_from_state_dict(state)
    except Exception as err:  # a damaged or foreign file: unpickling and spandrel errors vary
        raise WeightsError(f"The super-resolution weights {path} are not a model spandrel "
                           f"can load ({type(err).__name__}).") from err
    if descriptor.scale != 4 or not hasattr(descriptor, "model"):
        raise WeightsError(f"The super-resolution weights {path} are not a ×4 image model "
                           f"(scale {descriptor.scale}).")
    return descriptor


def model_name(descriptor: Any, path: Path) -> str:
    """`realesr-general-x4v3` / `realesr-animevideov3` by structure, else the file's stem."""
    if descriptor.architecture.name == "RealESRGAN Compact":
        num_conv = descriptor.model.num_conv if hasattr(descriptor.model, "num_conv") else None
        if num_conv in COMPACT_NAMES:
            return COMPACT_NAMES[num_conv]
    return Path(path).stem


def conv_flops(model: torch.nn.Module, height: int, width: int) -> float:
    """Multiply-adds × 2 of every Conv2d when the model runs on one height × width RGB image
    (the compact net's convs all run at input resolution; others are measured by hooks)."""
    total = 0.0

    def hook(module: torch.nn.Conv2d, _inputs: Any, output: torch.Tensor) -> None:
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        per_out = 2 * k * module.in_channels // module.groups
        total += per_out * output.shape[1] * output.shape[2] * output.shape[3]

    probe = copy.deepcopy(model).to("meta")
    handles = [m.register_forward_hook(hook) for m in probe.modules()
               if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.inference_mode():
            probe(torch.empty(1, 3, height, width, device="meta"))
    finally:
        for h in handles:
            h.remove()
    return total
