"""NanoDet (COCO, 416x416) in ONNX: loading with a checksum, inference and output decoding.

The model (lib/vision/models/, see NOTICE.md there) takes 1x3x416x416 RGB in [0, 1]. It has six
outputs, a pair per stride (8, 16, 32 -> 52², 26², 13² cells, row-major): 80 class scores,
already sigmoided, and 4 sides x 11 bins of box distribution. A side's distance from the cell
centre is the expectation of its softmaxed bins times the stride.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.errors import MediaError
from lib.vision.checksum import file_sha256

MODEL_PATH = Path(__file__).resolve().parent / "models" / "nanodet-coco-416.onnx"
MODEL_SHA256 = "744e9427fbbc6da7ef368d392edbdae8830d3fc7f2aa32b53b93d289c262fef0"
INPUT_SIZE = 416
STRIDES = (8, 16, 32)
NUM_CLASSES = 80
BINS = 11
PERSON = 0
# Cell centres sit at (i + CENTRE_OFFSET) * stride. Checked against the hand labels of
# tests/data/vision (bench/detect.py prints both): mean IoU 0.88 with 0.5, 0.66 with 0 (boxes
# shifted up-left by half a stride).
CENTRE_OFFSET = 0.5



def default_providers() -> list[str]:
    """CUDA when onnxruntime-gpu can use it (the GPU image), else the CPU: one code path."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RawOutputs:
    """One image's outputs, per stride: (cells, 80) scores and (cells, 44) distributions."""

    scores: tuple[np.ndarray, ...]
    dists: tuple[np.ndarray, ...]


class NanoDetModel:
    """One onnxruntime session for the lifetime of the object (loading takes ~0.2 s).

    Raises MediaError when the model file is missing or its sha256 does not match. The file is
    the committed one unless `DETECT_MODEL` (with `DETECT_MODEL_SHA256`) names another.
    """

    def __init__(self, path: Path | None = None, sha256: str | None = None,
                 providers: list[str] | None = None, threads: int | None = None):
        import onnxruntime as ort

        if path is None and os.environ.get("DETECT_MODEL"):
            path = Path(os.environ["DETECT_MODEL"])
            sha256 = sha256 or os.environ.get("DETECT_MODEL_SHA256", "")
        path = path or MODEL_PATH
        sha256 = sha256 or MODEL_SHA256

        if not path.is_file():
            raise MediaError(f"The person detector model is missing ({path.name}).")
        if file_sha256(path) != sha256:
            raise MediaError(
                f"The person detector model {path.name} is damaged (its checksum does not match)."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _cpu_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: job containers share their cores (decode,
        # encode) and spinning only burns them; the cost per run is within noise.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(path), options, providers=providers or default_providers()
        )
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        batch = model_input.shape[0]
        # The converted graph has a fixed batch of 1; a dynamic one would take all tiles at once.
        self.max_batch = batch if isinstance(batch, int) and batch > 0 else 64
        self._order = self._output_order()

    @property
    def providers(self) -> list[str]:
        return self.session.get_providers()

    def _output_order(self) -> tuple[list[int], list[int]]:
        """Output indices of the score and distribution tensors, by stride (8, 16, 32)."""
        scores, dists = {}, {}
        for i, out in enumerate(self.session.get_outputs()):
            cells, width = out.shape[-2], out.shape[-1]
            (scores if width == NUM_CLASSES else dists)[cells] = i
        want = [(INPUT_SIZE // s) ** 2 for s in STRIDES]
        if sorted(scores) != sorted(want) or sorted(dists) != sorted(want):
            raise MediaError("The person detector model has unexpected outputs.")
        return [scores[c] for c in want], [dists[c] for c in want]

    def infer(self, batch: np.ndarray) -> list[RawOutputs]:
        """Raw outputs for a float32 batch (N, 3, 416, 416), in chunks the model accepts."""
        results: list[RawOutputs] = []
        score_idx, dist_idx = self._order
        for start in range(0, len(batch), self.max_batch):
            chunk = np.ascontiguousarray(batch[start:start + self.max_batch])
            outs = self.session.run(None, {self.input_name: chunk})
            for n in range(len(chunk)):
                results.append(RawOutputs(
                    tuple(outs[i][n] for i in score_idx), tuple(outs[i][n] for i in dist_idx)
                ))
        return results


def decode(raw: RawOutputs, threshold: float, class_id: int = PERSON,
           centre_offset: float = CENTRE_OFFSET) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (K, 4) as x1, y1, x2, y2 in model-input pixels and their scores (K,), for one
    class, cells scoring above `threshold` only (before any NMS)."""
    boxes, scores = [], []
    for stride, cls, dist in zip(STRIDES, raw.scores, raw.dists, strict=True):
        score = cls[:, class_id]
        keep = np.flatnonzero(score > threshold)
        if keep.size == 0:
            continue
        logits = dist[keep].reshape(-1, 4, BINS)
        logits = logits - logits.max(axis=2, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=2, keepdims=True)
        # (K, 4) distances: left, top, right, bottom
        ltrb = (prob @ np.arange(BINS, dtype=np.float32)) * stride
        side = INPUT_SIZE // stride
        cx = (keep % side + centre_offset) * stride
        cy = (keep // side + centre_offset) * stride
        boxes.append(np.stack([cx - ltrb[:, 0], cy - ltrb[:, 1], cx + ltrb[:, 2],
                               cy + ltrb[:, 3]], axis=1))
        scores.append(score[keep])
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
    return np.concatenate(boxes).astype(np.float32), np.concatenate(scores).astype(np.float32)
