"""Synthetic football scenes with known ground truth, for the follow-the-player tests and bench.

Person cut-outs from the real test images (tests/data/vision: basketball1's left man and
messi5's player, each the hand-labelled box under a feathered elliptical mask) move over a
striped pitch along known paths while the camera pans across a wider world:
- A, the chosen player (basketball man), walks right with a pause, passes behind an advertising
  board (fully hidden for a moment);
- B, the same silhouette mirrored in a red kit (a team-mate look-alike), runs left and crosses A
  in front of him;
- C (messi5) wanders in the upper half.
`render(path, ...)` writes an H.264 MP4 and returns the per-frame truth (boxes in frame pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np

from tests.vision.labelled import DATA, labels

PITCH = (52, 128, 58)  # RGB
BOARD = (30, 60, 170)


@lru_cache(maxsize=4)
def cutout(name: str, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha in [0, 1]) of the person inside the labelled box: a feathered ellipse
    filling the box (GrabCut finds nothing in the grey basketball image)."""
    bgr = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    x, y, w, h = labels()["images"][name]["persons"][index]["box"]
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.sqrt(((xx + 0.5 - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - h / 2) / (h / 2)) ** 2)
    alpha = np.clip((1.08 - r) / 0.12, 0.0, 1.0).astype(np.float32)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return rgb[y:y + h, x:x + w].copy(), alpha


@dataclass
class Sprite:
    rgb: np.ndarray
    alpha: np.ndarray

    @classmethod
    def scaled(cls, rgb: np.ndarray, alpha: np.ndarray, height: int) -> Sprite:
        width = max(2, round(rgb.shape[1] * height / rgb.shape[0]))
        return cls(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA),
                   cv2.resize(alpha, (width, height), interpolation=cv2.INTER_AREA))


@dataclass
class Truth:
    """Per frame: each player's box [x, y, w, h] (top-left, frame pixels) and whether A shows."""

    fps: float
    width: int
    height: int
    boxes: dict[str, list[list[float]]] = field(default_factory=dict)
    a_visible: list[float] = field(default_factory=list)  # visible share of A's box

    def centre(self, name: str, i: int) -> tuple[float, float]:
        x, y, w, h = self.boxes[name][i]
        return x + w / 2, y + h / 2


def _paste(frame: np.ndarray, sprite: Sprite, x: float, y: float) -> None:
    h, w = sprite.alpha.shape
    x0, y0 = int(round(x)), int(round(y))
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    a = sprite.alpha[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0, None]
    src = sprite.rgb[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
    region = frame[fy0:fy1, fx0:fx1]
    region[:] = (src * a + region * (1 - a)).astype(np.uint8)


def _world(width: int, height: int) -> np.ndarray:
    world = np.empty((height, width, 3), np.uint8)
    world[:] = PITCH
    stripe = max(8, width // 16)
    for x0 in range(0, width, 2 * stripe):
        world[:, x0:x0 + stripe] = (60, 142, 64)
    line = max(2, height // 180)
    world[int(height * 0.12):int(height * 0.12) + line] = 235
    world[:, width // 2:width // 2 + line] = 235
    cv2.circle(world, (width // 2, height // 2), height // 5, (235, 235, 235), line)
    return world


def _ease(u: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, u)))


@dataclass(frozen=True)
class Scene:
    width: int = 640
    height: int = 360
    fps: int = 30
    seconds: float = 8.0
    pan: float = 0.35  # extra world width, as a share of the frame (the camera pans over it)
    player_height: float = 0.30  # share of the frame height

    @property
    def world_width(self) -> int:
        return int(self.width * (1 + self.pan))

    def a_x(self, t: float) -> float:
        """A's centre x in the world: walk, pause 1 s at ~40 %, walk on, faster."""
        ww, u = self.world_width, t / self.seconds
        if u < 0.3:
            return ww * (0.18 + 0.25 * u / 0.3)
        if u < 0.3 + 1.0 / self.seconds:
            return ww * 0.43
        return ww * (0.43 + 0.42 * _ease((u - 0.3 - 1.0 / self.seconds) / 0.55))

    def b_x(self, t: float) -> float:
        return self.world_width * (0.88 - 0.72 * t / self.seconds)

    def c_xy(self, t: float) -> tuple[float, float]:
        ww = self.world_width
        return (ww * (0.5 + 0.3 * math.sin(2 * math.pi * t / self.seconds)),
                self.height * (0.2 + 0.03 * math.sin(3 * t)))

    def camera_x(self, t: float) -> float:
        return (self.world_width - self.width) * _ease(t / self.seconds)

    def board(self, sprite_w: int) -> tuple[float, float, float, float]:
        """A world rectangle A passes behind (fully hidden for ~0.4 s), at 70 % of the clip."""
        t_hide = 0.7 * self.seconds
        dt = 1.0 / self.fps
        speed = abs(self.a_x(t_hide + dt) - self.a_x(t_hide - dt)) / (2 * dt)
        width = sprite_w + 0.3 * speed
        x = self.a_x(t_hide) - width / 2
        return x, self.height * 0.33, width, self.height * 0.42


def render(path: Path, scene: Scene = Scene()) -> Truth:
    """Write the scene as an H.264 MP4 at `path`; return the ground truth."""
    hp = int(scene.height * scene.player_height)
    rgb, alpha = cutout("basketball1.png", 0)
    a = Sprite.scaled(rgb, alpha, hp)
    kit = rgb.astype(np.float32) * np.array([1.25, 0.45, 0.4], np.float32)
    b = Sprite.scaled(np.clip(kit, 0, 255).astype(np.uint8)[:, ::-1].copy(), alpha[:, ::-1].copy(),
                      hp)
    c_rgb, c_alpha = cutout("messi5.jpg", 0)
    c = Sprite.scaled(c_rgb, c_alpha, int(hp * 0.8))
    world = _world(scene.world_width, scene.height)
    bx, by, bw, bh = scene.board(a.alpha.shape[1])
    truth = Truth(float(scene.fps), scene.width, scene.height)
    for name in ("A", "B", "C"):
        truth.boxes[name] = []
    n = int(round(scene.seconds * scene.fps))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=scene.fps)
        stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
        stream.options = {"crf": "20", "preset": "ultrafast"}
        for i in range(n):
            t = i / scene.fps
            cam = scene.camera_x(t)
            frame = world[:, int(round(cam)):int(round(cam)) + scene.width].copy()
            ah, aw = a.alpha.shape
            ax, ay = scene.a_x(t) - cam - aw / 2, scene.height * 0.52 - ah / 2
            bx_s, by_s = scene.b_x(t) - cam - aw / 2, scene.height * 0.58 - ah / 2
            ch, cw = c.alpha.shape
            cx, cy = scene.c_xy(t)
            cx_s, cy_s = cx - cam - cw / 2, cy - ch / 2
            _paste(frame, c, cx_s, cy_s)
            _paste(frame, a, ax, ay)
            board_x = int(round(bx - cam))
            cv2.rectangle(frame, (board_x, int(by)), (board_x + int(bw), int(by + bh)), BOARD,
                          thickness=-1)
            _paste(frame, b, bx_s, by_s)
            truth.boxes["A"].append([ax, ay, aw, ah])
            truth.boxes["B"].append([bx_s, by_s, aw, ah])
            truth.boxes["C"].append([cx_s, cy_s, cw, ch])
            covered = max(0.0, min(ax + aw, board_x + bw) - max(ax, board_x)) / aw
            truth.a_visible.append(1.0 - covered)
            video = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for packet in stream.encode(video):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return truth
