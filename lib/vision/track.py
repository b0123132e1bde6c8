"""Following one chosen player through a clip (spec/media.md §6b).

Every k-th frame (about `detect_hz` a second) is decoded at a reduced resolution (the player
~`PLAYER_PX` tall) and the detector runs on a window around where the player is expected (one
model tile; the window widens while the player is lost). Detections are associated over time by
ByteTrack (`trackers`); the chosen player's track is checked against his appearance (colour
histogram, lib.vision.appearance): a track that jumps to someone else (a crossing) is dropped,
and a lost player is held, then re-acquired by appearance near where his motion leads. The clip
is tracked forwards and backwards from the frame the player was chosen at. Gaps are reported and
bridged by linear interpolation (the path is offline).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lib.media import FrameReader, MediaInfo, probe
from lib.vision import appearance
from lib.vision.nanodet import INPUT_SIZE
from lib.vision.tiling import iou_matrix

PLAYER_PX = 100  # decode so the chosen player is about this tall
WINDOW_PLAYERS = 4.2  # detection window side, in player heights
SWITCH_MAX = 0.45  # appearance distance above which the track is not our player any more
REACQUIRE_MAX = 0.35  # ... below which a detection near the player's path is him again
HOLD_SECONDS = 2.0  # ByteTrack keeps a lost track this long
MAX_UPSCALE = 1.5  # small players are enlarged up to this much before detection


@dataclass
class FollowResult:
    """The chosen player's box at each sampled frame (x1, y1, x2, y2, source pixels)."""

    times: np.ndarray  # sample times, seconds from the clip's first frame
    boxes: np.ndarray  # (n, 4); gaps filled by interpolation
    seen: np.ndarray  # (n,) bool: the player was detected (not bridged) at that sample
    track_ids: list[int]  # ByteTrack ids the player had, in order (more than one = re-acquired)
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (start, end) seconds

    @property
    def centres(self) -> np.ndarray:
        return np.column_stack([(self.boxes[:, 0] + self.boxes[:, 2]) / 2,
                                (self.boxes[:, 1] + self.boxes[:, 3]) / 2])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box a against each row of b (x1, y1, x2, y2)."""
    return iou_matrix(a[None, :4], b)[0] if len(b) else np.zeros(0)


def _rgb_small(decoded, info: MediaInfo, scale: float) -> np.ndarray:
    w = max(2, int(round(info.width * scale)) // 2 * 2)
    h = max(2, int(round(info.height * scale)) // 2 * 2)
    rgb = decoded.frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
    k = (info.rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def decode_samples(path: Path, info: MediaInfo, at: float, every: int, scale: float,
                   start: float = 0.0, end: float | None = None
                   ) -> tuple[list[float], list[np.ndarray], int]:
    """Every `every`-th frame from start to end, aligned so the frame shown at `at` is one;
    RGB at `scale`. Returns (times, frames, index of the `at` sample).

    Two passes keep memory to the sampled frames: the first decodes up to `at` for the shown
    frame's index (decoded frames hold the decoder's buffers: keeping every one of a clip
    took ~3 MB a 1080p frame), the second converts only the samples."""
    anchor = -1
    for index, decoded in enumerate(FrameReader(path, info, start=start, end=end,
                                                normalize=False)):
        if decoded.t >= at + 1e-6:
            break
        anchor = index
    else:
        if anchor < 0:
            raise ValueError("The clip has no video frames in that range.")
    anchor = max(anchor, 0)
    times, rgbs = [], []
    for index, decoded in enumerate(FrameReader(path, info, start=start, end=end)):
        if index % every == anchor % every:
            times.append(decoded.t)
            rgbs.append(_rgb_small(decoded, info, scale))
    return times, rgbs, anchor // every


class PlayerTracker:
    """Tracks one chosen player; `detector` is a lib.vision.detect.PersonDetector (the
    process's shared one by default; detections use this tracker's own `confidence`)."""

    def __init__(self, detector=None, detect_hz: float = 6.0, confidence: float = 0.15):
        if detector is None:
            from lib.vision.detect import shared_detector

            detector = shared_detector()
        self.detector = detector
        self.detect_hz = detect_hz
        self.confidence = confidence

    def follow(self, path: str | Path, box: Sequence[float], at: float, *,
               start: float = 0.0, end: float | None = None,
               info: MediaInfo | None = None) -> FollowResult:
        """Follow the player whose box (x, y, width, height; top-left, source display pixels)
        is given at time `at` (seconds from the clip's first frame)."""
        info = info or probe(path)
        every = max(1, int(round(info.fps / self.detect_hz)))
        scale = min(MAX_UPSCALE, PLAYER_PX / max(float(box[3]), 1.0))
        times, frames, anchor = decode_samples(Path(path), info, at, every, scale, start, end)
        x, y, w, h = (float(v) * scale for v in box)
        chosen = np.array([x, y, x + w, y + h])
        fwd = _Follower(self, frames[anchor:], times[anchor:], chosen)
        back = _Follower(self, frames[anchor::-1], times[anchor::-1], chosen)
        boxes = np.array(back.boxes[:0:-1] + fwd.boxes, dtype=object)
        seen = np.array([b is not None for b in boxes])
        filled = _bridge(np.array(times), boxes) / scale
        ids = [i for i in back.ids[::-1] + fwd.ids if i >= 0]
        ids = [i for k, i in enumerate(ids) if k == 0 or ids[k - 1] != i]
        return FollowResult(np.array(times), filled, seen, ids, _gaps(np.array(times), seen))


def _bridge(times: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    known = np.array([b is not None for b in boxes])
    stack = np.array([b for b in boxes if b is not None], float)
    out = np.empty((len(boxes), 4))
    for k in range(4):
        out[:, k] = np.interp(times, times[known], stack[:, k])
    return out


def _gaps(times: np.ndarray, seen: np.ndarray) -> list[tuple[float, float]]:
    gaps, start = [], None
    for i, ok in enumerate(seen):
        if not ok and start is None:
            start = i
        if ok and start is not None:
            gaps.append((float(times[start - 1] if start else times[0]), float(times[i])))
            start = None
    if start is not None:
        gaps.append((float(times[start - 1] if start else times[0]), float(times[-1])))
    return gaps


class _Follower:
    """One direction of tracking, from the chosen frame (index 0) on."""

    def __init__(self, owner: PlayerTracker, frames: list[np.ndarray], times: list[float],
                 chosen: np.ndarray):
        from trackers import ByteTrackTracker

        self.owner = owner
        dt = abs(times[1] - times[0]) if len(times) > 1 else 1.0 / owner.detect_hz
        rate = 1.0 / max(dt, 1e-6)
        self.tracker = ByteTrackTracker(
            lost_track_buffer=int(math.ceil(HOLD_SECONDS * 30)), frame_rate=rate,
            track_activation_threshold=0.3, minimum_consecutive_frames=1,
            minimum_iou_threshold=0.1, high_conf_det_threshold=0.4)
        self.boxes: list[np.ndarray | None] = []
        self.ids: list[int] = []
        self.template = appearance.histogram(frames[0], chosen)
        self.recent = self.template
        self.target_id: int | None = None
        self.last = chosen.astype(float)
        self.velocity = np.zeros(2)
        self.lost_for = 0.0
        for i, (frame, t) in enumerate(zip(frames, times, strict=True)):
            step = abs(t - times[i - 1]) if i else 0.0
            self._step(frame, step, chosen if i == 0 else None)

    def _window(self, frame: np.ndarray) -> tuple[int, int, int, int]:
        h_img, w_img = frame.shape[:2]
        ph = self.last[3] - self.last[1]
        side = WINDOW_PLAYERS * ph * (1.0 + 1.5 * self.lost_for)
        side = min(max(side, INPUT_SIZE), max(w_img, h_img))
        cx, cy = self._predicted()
        x0 = int(np.clip(cx - side / 2, 0, max(0, w_img - side)))
        y0 = int(np.clip(cy - side / 2, 0, max(0, h_img - side)))
        return x0, y0, int(min(w_img, x0 + side)), int(min(h_img, y0 + side))

    def _predicted(self) -> tuple[float, float]:
        cx, cy = (self.last[0] + self.last[2]) / 2, (self.last[1] + self.last[3]) / 2
        lead = min(self.lost_for, 1.0)
        return cx + self.velocity[0] * lead, cy + self.velocity[1] * lead

    def _detect(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self._window(frame)
        region = frame[y0:y1, x0:x1]
        h, w = region.shape[:2]
        if h != w:  # letterbox: the detector resizes a view to its square input
            side = max(h, w)
            square = np.full((side, side, 3), 114, np.uint8)
            square[:h, :w] = region
            region = square
        scale = min(1.0, 1.2 * INPUT_SIZE / max(region.shape[:2]))
        found = self.owner.detector.detect([region], scale=scale,
                                           confidence=self.owner.confidence)[0]
        if not found:
            return np.zeros((0, 4)), np.zeros(0)
        boxes = np.array([[b.x1 + x0, b.y1 + y0, b.x2 + x0, b.y2 + y0] for b in found])
        return boxes, np.array([b.confidence for b in found])

    def _step(self, frame: np.ndarray, dt: float, chosen: np.ndarray | None) -> None:
        import supervision as sv

        boxes, conf = self._detect(frame)
        if chosen is not None:  # the chosen frame: the user's box, refined by a detection
            iou = _iou(chosen, boxes)
            if len(iou) and iou.max() >= 0.3:
                conf[int(iou.argmax())] = max(conf[int(iou.argmax())], 0.95)
            else:
                boxes = np.vstack([boxes, chosen[None]])
                conf = np.append(conf, 0.95)
        dets = sv.Detections(xyxy=boxes.astype(np.float32).reshape(-1, 4),
                             confidence=conf.astype(np.float32),
                             data={"index": np.arange(len(boxes))})
        out = self.tracker.update(dets)
        ids = np.full(len(boxes), -1)
        for j, tid in zip(out.data.get("index", []), out.tracker_id, strict=False):
            ids[int(j)] = int(tid)
        feats = [appearance.histogram(frame, b) for b in boxes]
        pick = self._choose(boxes, ids, feats, chosen)
        if pick is None:
            self.boxes.append(None)
            self.ids.append(-1)
            self.lost_for += dt
            return
        box = boxes[pick]
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        before = np.array([(self.last[0] + self.last[2]) / 2, (self.last[1] + self.last[3]) / 2])
        span = dt + self.lost_for
        if span > 0:
            self.velocity = 0.5 * self.velocity + 0.5 * (centre - before) / span
        self.last, self.lost_for = box.astype(float), 0.0
        self.target_id = int(ids[pick]) if ids[pick] >= 0 else self.target_id
        d = appearance.distance(feats[pick], self.template)
        if feats[pick] is not None and d < 0.5 * SWITCH_MAX:
            self.recent = 0.8 * self.recent + 0.2 * feats[pick] if self.recent is not None \
                else feats[pick]
        self.boxes.append(box.astype(float))
        self.ids.append(int(ids[pick]))

    def _similarity(self, feat: np.ndarray | None) -> float:
        return min(appearance.distance(feat, self.template),
                   appearance.distance(feat, self.recent))

    def _choose(self, boxes: np.ndarray, ids: np.ndarray, feats: list,
                chosen: np.ndarray | None) -> int | None:
        if len(boxes) == 0:
            return None
        if chosen is not None:
            return int(_iou(chosen, boxes).argmax())
        dists = np.array([self._similarity(f) for f in feats])
        if self.target_id is not None and self.target_id in ids:
            j = int(np.flatnonzero(ids == self.target_id)[0])
            if dists[j] <= SWITCH_MAX:
                return j
        # Lost (or the track moved to someone else): whoever looks like him near his path.
        px, py = self._predicted()
        ph = self.last[3] - self.last[1]
        reach = ph * (0.8 + 2.0 * self.lost_for)
        centres = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2,
                                   (boxes[:, 1] + boxes[:, 3]) / 2])
        near = np.hypot(centres[:, 0] - px, centres[:, 1] - py) / max(reach, 1.0)
        score = dists + 0.15 * near
        score[(near > 1.0) | (dists > REACQUIRE_MAX)] = np.inf
        if self.lost_for == 0.0:  # still in sight last time: the box overlapping it, if alike
            iou = _iou(self.last, boxes)
            score[(iou < 0.2) & (dists > 0.5 * REACQUIRE_MAX)] = np.inf
        j = int(np.argmin(score))
        return j if math.isfinite(score[j]) else None
