"""Tiling a frame at the detector's scale, and merging the boxes found in the tiles.

A 1080p frame shrunk to the model's 416² leaves a 60 px player ~23 px tall and the model misses
it; cut into 8 overlapping 600 px tiles, each shrunk less, the same player is ~42 px. Large
people (a close-up) can be cut by every tile, so a plan also runs the whole frame once (the
"full view").
A person that straddles a seam is seen twice: whole in one tile and cut in the neighbour, or cut
in both; `merge` keeps one box for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lib.vision.nanodet import INPUT_SIZE

OVERLAP = 0.15  # min fraction of a tile shared with its neighbour (wider than a player)
TILE_PER_SHORT_SIDE = 0.555  # tile side / frame's short side: 1080p -> 600 px tiles
TILE_MIN, TILE_MAX = INPUT_SIZE, 900  # never enlarge; 4K: smallest player found ~60 px
ONE_TILE_SLACK = 1.2  # an axis up to 1.2 x the tile side is one tile (shrunk a little)


@dataclass(frozen=True)
class Tile:
    """A frame region in frame pixels; `full` marks the whole-frame view."""

    x: int
    y: int
    width: int
    height: int
    full: bool = False


def _axis(length: int, side: int) -> tuple[int, list[int]]:
    """Tile size and evenly spread starts covering `length` with tiles of about `side`."""
    if length <= ONE_TILE_SLACK * side:
        return length, [0]
    overlap = OVERLAP * side
    count = math.ceil((length - overlap) / (side - overlap))
    step = (length - side) / (count - 1)
    return side, [round(i * step) for i in range(count)]


def tile_side(width: int, height: int) -> int:
    """Tile side in frame pixels: a fixed share of the short side, so a 720p, 1080p or 4K
    broadcast of the same scene gets similar grids, within the model's useful scales."""
    return int(min(TILE_MAX, max(TILE_MIN, round(TILE_PER_SHORT_SIDE * min(width, height)))))


def plan_tiles(width: int, height: int) -> list[Tile]:
    """The views of a width x height frame the detector runs: the full frame (large people),
    plus overlapping square tiles (small ones) when the frame is larger than the model's input.

    768x576: 2x2 tiles of 416 + full; 1280x720: 4x2 of 416; 1920x1080: 4x2 of 600;
    3840x2160: 5x3 of 900; 810x1440 (portrait): 2x4 of 450; 640x480: 2x1 of 416x480.
    """
    full = Tile(0, 0, width, height, full=True)
    if max(width, height) <= ONE_TILE_SLACK * INPUT_SIZE:
        return [full]
    side = tile_side(width, height)
    tile_w, xs = _axis(width, side)
    tile_h, ys = _axis(height, side)
    if len(xs) * len(ys) == 1:
        return [full]
    return [full, *(Tile(x, y, tile_w, tile_h) for y in ys for x in xs)]


def scaled_plan(width: int, height: int, scale: float) -> list[Tile]:
    """The plan for the frame shrunk by `scale` (fewer tiles), in the frame's own pixels."""
    if scale >= 1.0:
        return plan_tiles(width, height)
    small = plan_tiles(max(1, round(width * scale)), max(1, round(height * scale)))
    out = []
    for t in small:
        x, y = round(t.x / scale), round(t.y / scale)
        out.append(Tile(x, y, min(width - x, round(t.width / scale)),
                        min(height - y, round(t.height / scale)), t.full))
    return out


def overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU and intersection over the smaller area, (len(a), len(b)), for x1y1x2y2 boxes."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    ix, iy = np.clip(hi - lo, 0, None).transpose(2, 0, 1)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return inter / np.maximum(union, 1e-6), inter / np.maximum(smaller, 1e-6)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of x1y1x2y2 boxes, (len(a), len(b)); empty inputs give an empty matrix."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return overlaps(a, b)[0]


def xywh_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """IoU of two boxes given as top-left x, y, width, height."""
    def corners(box: tuple[float, ...]) -> list[float]:
        return [box[0], box[1], box[0] + box[2], box[1] + box[3]]

    return float(iou_matrix(np.array([corners(a)]), np.array([corners(b)]))[0, 0])


@dataclass
class Candidate:
    box: np.ndarray  # x1, y1, x2, y2, frame pixels
    score: float
    tile: int
    cut: bool  # touches a tile border that is inside the frame (the person may go on)


def cut_flags(boxes: np.ndarray, tile: Tile, frame_w: int, frame_h: int, margin: float
              ) -> np.ndarray:
    """Whether each box (frame pixels) touches an edge of `tile` that is not a frame edge."""
    if tile.full or len(boxes) == 0:
        return np.zeros(len(boxes), bool)
    left = (tile.x > 0) & (boxes[:, 0] <= tile.x + margin)
    top = (tile.y > 0) & (boxes[:, 1] <= tile.y + margin)
    right = (tile.x + tile.width < frame_w) & (boxes[:, 2] >= tile.x + tile.width - margin)
    bottom = (tile.y + tile.height < frame_h) & (boxes[:, 3] >= tile.y + tile.height - margin)
    return left | top | right | bottom


def merge(cands: list[Candidate], nms_iou: float = 0.5, seam_overlap: float = 0.6
          ) -> list[Candidate]:
    """One box per person across views, highest score first.

    Two boxes are the same person when their IoU ≥ `nms_iou` (plain NMS), or when they come from
    different views, one is cut by a seam, and ≥ `seam_overlap` of the smaller lies inside the
    other. The merged box is the uncut one if there is one, else the union of the two cut ones
    (a person cut in both tiles); its confidence is the higher of the two.
    """
    if not cands:
        return []
    cands = sorted(cands, key=lambda c: -c.score)
    boxes = np.stack([c.box for c in cands])
    iou, ios = overlaps(boxes, boxes)
    kept: list[int] = []
    merged: dict[int, Candidate] = {}
    for i, cand in enumerate(cands):
        target = None
        for k in kept:
            same = iou[i, k] >= nms_iou or (
                cand.tile != cands[k].tile and (cand.cut or cands[k].cut)
                and ios[i, k] >= seam_overlap
            )
            if same:
                target = k
                break
        if target is None:
            kept.append(i)
            merged[i] = Candidate(cand.box.copy(), cand.score, cand.tile, cand.cut)
            continue
        into = merged[target]
        if into.cut and not cand.cut:
            into.box, into.cut = cand.box.copy(), False
        elif into.cut and cand.cut and cand.tile != into.tile:
            into.box = np.concatenate([np.minimum(into.box[:2], cand.box[:2]),
                                       np.maximum(into.box[2:], cand.box[2:])])
    return [merged[k] for k in kept]
