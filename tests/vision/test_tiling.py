"""The tile plans chosen from the frame size cover the frame with overlapping tiles."""

from __future__ import annotations

import numpy as np
import pytest

from lib.vision.tiling import OVERLAP, plan_tiles, scaled_plan


def grid(tiles):
    inner = [t for t in tiles if not t.full]
    return len({t.x for t in inner}), len({t.y for t in inner})


@pytest.mark.parametrize(("size", "cols_rows", "tile"), [
    ((480, 360), (0, 0), None),  # about the model's size: the whole frame once
    ((548, 342), (2, 1), (416, 342)),
    ((768, 576), (2, 2), (416, 416)),  # small frame: tiles at the model's own scale
    ((1280, 720), (4, 2), (416, 416)),
    ((1920, 1080), (4, 2), (599, 599)),
    ((3840, 2160), (5, 3), (900, 900)),
    ((810, 1440), (2, 4), (450, 450)),  # the portrait working video
])
def test_plan_from_frame_size(size, cols_rows, tile):
    width, height = size
    tiles = plan_tiles(width, height)
    assert tiles[0].full and (tiles[0].width, tiles[0].height) == size
    assert grid(tiles) == cols_rows
    inner = tiles[1:]
    if tile is None:
        assert not inner
        return
    assert all((t.width, t.height) == tile for t in inner)
    covered = np.zeros((height, width), int)
    for t in inner:
        assert t.x >= 0 and t.y >= 0 and t.x + t.width <= width and t.y + t.height <= height
        covered[t.y:t.y + t.height, t.x:t.x + t.width] += 1
    assert covered.min() >= 1
    xs = sorted({t.x for t in inner})
    for a, b in zip(xs, xs[1:], strict=False):
        assert a + tile[0] - b >= OVERLAP * tile[0] - 1  # neighbours share at least the overlap


def test_scaled_plan_has_fewer_tiles_in_frame_pixels():
    full = plan_tiles(1920, 1080)
    half = scaled_plan(1920, 1080, 0.5)
    assert 1 < len(half) < len(full)
    assert half[0].full and (half[0].width, half[0].height) == (1920, 1080)
    assert max(t.x + t.width for t in half) == 1920
    assert max(t.y + t.height for t in half) == 1080
