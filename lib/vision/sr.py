"""Real-ESRGAN super-resolution behind the `Upscaler` stream interface (spec/media.md §5).

Each crop follows its plan (`sr_plan.plan_crop`: the smallest work that reaches the output).

Three stages overlap: a prepare thread pulls crops (which drives decoding), downscales them
and packs batches of YUV planes into reusable host buffers (pinned on CUDA); an inference
thread uploads a batch, converts YUV→RGB float on the device, runs the model, converts back
to uint8 YUV on the device and downloads the result, finishing the previous batch while the
device works on the next; the caller's thread takes finished frames (and encodes them).
Queues are bounded, so memory stays flat in the video's length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import torch
import torch.nn.functional as F

from lib.media import Yuv420
from lib.media.resample import SourceCrop, resample_frame, resample_into
from lib.vision.sr_model import load_model, model_name
from lib.vision.sr_plan import SrPlan, SrStats, even, frame_bytes, plan_crop

CPU_BATCH = 2  # CPU time per frame is flat in the batch size (measured 1-4)
MAX_BATCH = 64
TILE_PAD = 24  # > the compact net's receptive radius (18 convs of 3×3)
_END = object()


@dataclass
class _Batch:
    slot: torch.Tensor  # flat uint8 host buffer; frame i is [Y | U | V] at i * frame bytes
    plan: SrPlan
    count: int = 0


class _Pool:
    """A fixed set of reusable host buffers; `get` blocks (back-pressure) until one is free."""

    def __init__(self, count: int, nbytes: int, pin: bool):
        self._free: queue.Queue[torch.Tensor] = queue.Queue()
        for _ in range(count):
            self._free.put(torch.empty(nbytes, dtype=torch.uint8, pin_memory=pin))

    def get(self, stop: threading.Event) -> torch.Tensor | None:
        while not stop.is_set():
            try:
                return self._free.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def put(self, buf: torch.Tensor) -> None:
        self._free.put(buf)


def _put(q: queue.Queue, item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _yuv_matrix(device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight (3, 3, 1, 1) and bias of RGB [0, 1] → limited-range Y, Cb, Cr in 0..255."""
    kr, kb = 0.2126, 0.0722
    kg = 1 - kr - kb
    rows = [[219 * kr, 219 * kg, 219 * kb],
            [224 * -kr / (2 - 2 * kb), 224 * -kg / (2 - 2 * kb), 224 * 0.5],
            [224 * 0.5, 224 * -kg / (2 - 2 * kr), 224 * -kb / (2 - 2 * kr)]]
    weight = torch.tensor(rows, dtype=torch.float32).view(3, 3, 1, 1)
    bias = torch.tensor([16.0, 128.0, 128.0])
    return weight.to(device, dtype), bias.to(device, dtype)


class SrUpscaler:
    """A ×scale Real-ESRGAN model (spandrel) as an `Upscaler`."""

    def __init__(self, descriptor: Any, name: str, device: str | torch.device | None = None,
                 batch_size: int | None = None, tile: int | None = None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.cuda = self.device.type == "cuda"
        self.dtype = torch.float16 if self.cuda else torch.float32
        self.name, self.scale = name, int(descriptor.scale)
        self.model: torch.nn.Module = descriptor.model.eval().to(
            self.device, dtype=self.dtype, memory_format=torch.channels_last)
        self.num_feat = int(getattr(self.model, "num_feat", 64))
        self.batch_size, self.tile = batch_size, tile
        self.stats = SrStats()
        self._to_yuv: tuple[torch.Tensor, torch.Tensor] | None = None
        if self.cuda:
            torch.backends.cudnn.benchmark = True

    @classmethod
    def from_weights(cls, path: Path, sha256: str, device: str | torch.device | None = None,
                     batch_size: int | None = None, tile: int | None = None) -> SrUpscaler:
        """Raises WeightsError when the file is missing, has another sha256 or is no model."""
        descriptor = load_model(path, sha256)
        return cls(descriptor, model_name(descriptor, path), device, batch_size, tile)

    def plan(self, crop_w: int, crop_h: int, width: int, height: int) -> SrPlan:
        return plan_crop(crop_w, crop_h, width, height, self.scale)

    # Memory ---------------------------------------------------------------------------------

    def device_bytes(self, w: int, h: int) -> int:
        """Device bytes one frame needs in flight: a few feature maps at input size, the
        ×scale RGB output (several temporaries) and the YUV buffers."""
        elem = torch.finfo(self.dtype).bits // 8
        features = 4 * self.num_feat * w * h * elem
        output = 6 * 3 * w * h * self.scale**2 * elem
        return features + output

    def _budget(self) -> int:
        if self.cuda:
            free, _total = torch.cuda.mem_get_info(self.device)
            cached = torch.cuda.memory_reserved(self.device) - torch.cuda.memory_allocated(
                self.device)  # blocks torch holds for reuse count as free
            return int((free + cached) * 0.4)
        return 1 << 30

    def batch_for(self, w: int, h: int) -> int:
        if self.batch_size:
            return self.batch_size
        if not self.cuda:
            return CPU_BATCH
        return max(1, min(MAX_BATCH, self._budget() // self.device_bytes(w, h)))

    def _tile_for(self, w: int, h: int) -> int | None:
        """Tile side (input pixels) when one frame does not fit the budget, else None."""
        if self.tile:
            return self.tile if max(w, h) > self.tile else None
        budget, need = self._budget(), self.device_bytes(w, h)
        if need <= budget:
            return None
        side = int((w * h * budget / need) ** 0.5) - 2 * TILE_PAD
        return max(64, side)

    # Device work ----------------------------------------------------------------------------

    def _yuv_to_rgb(self, flat: torch.Tensor, n: int, w: int, h: int) -> torch.Tensor:
        """BT.709 limited-range YUV 4:2:0 uint8 (n × [Y | U | V]) → RGB in [0, 1], NCHW
        channels_last."""
        frames = flat.view(n, frame_bytes(w, h))
        y = frames[:, : h * w].reshape(n, 1, h, w).to(self.dtype)
        uv = frames[:, h * w :].reshape(n * 2, 1, h // 2, w // 2).to(self.dtype)
        uv = F.interpolate(uv, size=(h, w), mode="bilinear", align_corners=False)
        u, v = ((uv.view(n, 2, h, w) - 128.0) / 224.0).unsqueeze(2).unbind(1)
        luma = (y - 16.0) / 219.0
        rgb = torch.cat((luma + 1.5748 * v, luma - 0.1873 * u - 0.4681 * v, luma + 1.8556 * u), 1)
        return rgb.clamp_(0.0, 1.0).contiguous(memory_format=torch.channels_last)

    def _rgb_to_yuv(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] → flat uint8, frame i = [Y | U | V] (BT.709 limited range, 4:2:0 by
        a 2×2 box). The matrix is one 1×1 convolution: a single pass over the large output."""
        if self._to_yuv is None or self._to_yuv[0].dtype != rgb.dtype:
            self._to_yuv = _yuv_matrix(rgb.device, rgb.dtype)
        yuv = F.conv2d(rgb.clamp(0.0, 1.0), *self._to_yuv)
        n = rgb.shape[0]
        y = yuv[:, 0].round().clamp_(0, 255).to(torch.uint8)
        c = F.avg_pool2d(yuv[:, 1:], 2).round_().clamp_(0, 255).to(torch.uint8)
        return torch.cat((y.reshape(n, -1), c.reshape(n, -1)), 1)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        tile = self._tile_for(w, h)
        if tile is None:
            return self.model(x)
        s = self.scale
        out = x.new_empty(n, 3, h * s, w * s).contiguous(memory_format=torch.channels_last)
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                ya, xa = max(0, y0 - TILE_PAD), max(0, x0 - TILE_PAD)
                part = self.model(x[:, :, ya : min(h, y1 + TILE_PAD), xa : min(w, x1 + TILE_PAD)])
                oy, ox = (y0 - ya) * s, (x0 - xa) * s
                out[:, :, y0 * s : y1 * s, x0 * s : x1 * s] = (
                    part[:, :, oy : oy + (y1 - y0) * s, ox : ox + (x1 - x0) * s])
        return out

    # Stream ---------------------------------------------------------------------------------

    def resize_stream(self, crops: Iterable[SourceCrop], width: int, height: int
                      ) -> Iterator[av.VideoFrame]:
        # the largest model input this output can need
        tw, th = even(width / self.scale), even(height / self.scale)
        batch = self.batch_for(tw, th)
        inputs = _Pool(4, batch * frame_bytes(tw, th), self.cuda)
        outputs = _Pool(2, batch * frame_bytes(tw * self.scale, th * self.scale), self.cuda)
        batches: queue.Queue = queue.Queue(maxsize=2)
        results: queue.Queue = queue.Queue(maxsize=3)
        stop = threading.Event()
        workers = [
            threading.Thread(target=self._prepare, name="sr-prepare", daemon=True,
                             args=(iter(crops), width, height, batch, inputs, batches, stop)),
            threading.Thread(target=self._infer, name="sr-infer", daemon=True,
                             args=(width, height, inputs, outputs, batches, results, stop)),
        ]
        for t in workers:
            t.start()
        try:
            while True:
                item = results.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            stop.set()
            for t in workers:
                t.join()

    def _prepare(self, crops: Iterator[SourceCrop], width: int, height: int, batch_size: int,
                 inputs: _Pool, batches: queue.Queue, stop: threading.Event) -> None:
        pending: _Batch | None = None
        try:
            for crop in crops:
                _, _, box_w, box_h = crop.box
                plan = self.plan(max(2, round(box_w)), max(2, round(box_h)), width, height)
                if pending is not None and plan != pending.plan:
                    if not _put(batches, pending, stop):
                        return
                    pending = None
                if plan.model_input is None:
                    frame = resample_frame(crop.frame, crop.box, width, height)
                    if not _put(batches, [frame], stop):
                        return
                    continue
                if pending is None:
                    slot = inputs.get(stop)
                    if slot is None:
                        return
                    pending = _Batch(slot, plan)
                self._pack(pending, crop)
                if pending.count == batch_size:
                    if not _put(batches, pending, stop):
                        return
                    pending = None
            if pending is not None and not _put(batches, pending, stop):
                return
            _put(batches, _END, stop)
        except BaseException as err:  # reaches the caller's thread (a damaged video, ...)
            _put(batches, err, stop)
        finally:
            close = getattr(crops, "close", None)
            if close is not None:
                close()

    def _pack(self, batch: _Batch, crop: SourceCrop) -> None:
        """Write the crop, resampled from its sub-pixel box straight to the model's input size
        (pre-filtered when that is smaller), as frame `batch.count`."""
        w, h = batch.plan.model_input or (0, 0)
        size, n_y, n_c = frame_bytes(w, h), h * w, (h // 2) * (w // 2)
        at = batch.count * size
        host = batch.slot.numpy()
        resample_into(crop.frame, crop.box, Yuv420(  # model inputs have even sides
            host[at : at + n_y].reshape(h, w),
            host[at + n_y : at + n_y + n_c].reshape(h // 2, w // 2),
            host[at + n_y + n_c : at + size].reshape(h // 2, w // 2)))
        batch.count += 1

    def _infer(self, width: int, height: int, inputs: _Pool, outputs: _Pool,
               batches: queue.Queue, results: queue.Queue, stop: threading.Event) -> None:
        in_flight: tuple | None = None
        try:
            with torch.inference_mode():
                while not stop.is_set():
                    try:
                        item = batches.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    if isinstance(item, _Batch):
                        launched = self._launch(item, outputs, stop)
                        if launched is None:
                            return
                        if in_flight is not None:
                            self._finish(in_flight, width, height, inputs, outputs,
                                         results, stop)
                        in_flight = launched
                        continue
                    if in_flight is not None:
                        self._finish(in_flight, width, height, inputs, outputs,
                                     results, stop)
                        in_flight = None
                    _put(results, item, stop)
                    if item is _END or isinstance(item, BaseException):
                        return
        except BaseException as err:
            _put(results, err, stop)

    def _launch(self, batch: _Batch, outputs: _Pool, stop: threading.Event) -> tuple | None:
        """Start a batch on the device; its download lands in a host buffer (async on CUDA)."""
        w, h = batch.plan.model_input or (0, 0)
        n = batch.count
        flat = batch.slot[: n * frame_bytes(w, h)].to(self.device, non_blocking=True)
        out = self._rgb_to_yuv(self._forward(self._yuv_to_rgb(flat, n, w, h)))
        dest = outputs.get(stop)
        if dest is None:
            return None
        dest[: out.numel()].view(out.shape).copy_(out, non_blocking=True)
        event = None
        if self.cuda:
            event = torch.cuda.Event()
            event.record()
        self.stats.batches += 1
        self.stats.frames_sr += n
        self.stats.model_inputs[(w, h)] += n
        return batch, dest, event

    def _finish(self, in_flight: tuple, width: int, height: int, inputs: _Pool,
                outputs: _Pool, results: queue.Queue, stop: threading.Event) -> None:
        batch, dest, event = in_flight
        if event is not None:
            event.synchronize()
        inputs.put(batch.slot)
        ow, oh = batch.plan.model_output or (0, 0)
        size, n_y, n_c = frame_bytes(ow, oh), oh * ow, (oh // 2) * (ow // 2)
        host = dest.numpy()
        frames = []
        for i in range(batch.count):
            at = i * size
            planes = Yuv420(host[at : at + n_y].reshape(oh, ow),
                            host[at + n_y : at + n_y + n_c].reshape(oh // 2, ow // 2),
                            host[at + n_y + n_c : at + size].reshape(oh // 2, ow // 2))
            frames.append(resample_frame(planes, (0.0, 0.0, float(ow), float(oh)), width, height))
        outputs.put(dest)
        _put(results, frames, stop)
