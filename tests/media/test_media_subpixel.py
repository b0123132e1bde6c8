"""The framing export follows the crop spline to a fraction of a source pixel (issue 17).

A position-encoded 1920x1080 source goes through the real framing job; each output frame's
source box is read back by fitting the pattern and compared with the spline (spec §2).
"""

from __future__ import annotations

import numpy as np

from lib.timeline.keyframes import crop_at
from tests.media.position_pattern import SRC_H, SRC_W, box_error, fit_box, position_video
from tests.media.test_media_framing import put
from tests.media_helpers import luma_frames

OUT_W, OUT_H = 360, 640


def render_boxes(store, tmp_path, keyframes, name):
    """(time, box read back, rms of the fit) for every output frame of a framing export."""
    from functions import framing

    key = put(store, position_video(), f"{name}.mp4")
    spec = {"clips": [{"source_key": key, "crop_keyframes": keyframes}],
            "output_key": f"u/working_videos/{name}.mp4",
            "output_width": OUT_W, "output_height": OUT_H}
    result = framing.run(spec, store, None)
    assert result.status == "complete", result.error
    out = tmp_path / f"{name}.mp4"
    store.download_file(result.output_key, out)
    rows = []
    for t, y in luma_frames(out):
        want = crop_at(keyframes, t, SRC_W, SRC_H)
        guess = (want.x, want.y, want.width, want.height)
        found, rms = fit_box(y, guess)
        rows.append((t, found, guess, rms))
    return rows


def test_a_curved_path_lands_within_a_quarter_pixel(local_store, tmp_path):
    keyframes = [
        {"frame": 0, "x": 420.0, "y": 160.0, "width": 300.0, "height": 533.0},
        {"frame": 15, "x": 507.3, "y": 221.7, "width": 318.6, "height": 566.4},
        {"frame": 30, "x": 649.9, "y": 188.2, "width": 341.2, "height": 606.6},
        {"frame": 45, "x": 731.4, "y": 246.9, "width": 322.5, "height": 573.3},
        {"frame": 60, "x": 902.6, "y": 204.1, "width": 296.8, "height": 527.7},
    ]
    rows = render_boxes(local_store, tmp_path, keyframes, "curve")
    checked = [(t, found, want, rms) for t, found, want, rms in rows if t <= 2.0 + 1e-6]
    assert len(checked) >= 50
    errors = [box_error(found, want) for _, found, want, _ in checked]
    worst = int(np.argmax(errors))
    assert max(errors) <= 0.25, checked[worst]
    assert max(rms for *_, rms in checked) < 1.5  # the pattern explains every frame


def test_a_slow_linear_pan_moves_the_same_fraction_every_frame(local_store, tmp_path):
    # collinear, evenly spaced keyframes: the spline is exactly linear between the inner ones
    keyframes = [{"frame": f, "x": 700.0 + 0.4 * f, "y": 240.0, "width": 300.0, "height": 533.0}
                 for f in range(0, 91, 10)]
    rows = render_boxes(local_store, tmp_path, keyframes, "pan")
    inner = [(t, found, want) for t, found, want, _ in rows if 20 / 30 - 1e-6 <= t <= 70 / 30]
    assert len(inner) >= 45
    centres = np.array([found[0] + found[2] / 2 for _, found, _ in inner])
    steps = np.diff(centres)
    assert np.abs(steps - 0.4).max() <= 0.1, steps  # no staircase: every frame glides 0.4 px
    assert max(box_error(found, want) for _, found, want in inner) <= 0.25
