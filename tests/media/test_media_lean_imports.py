"""The modules the web image imports stay free of numpy, PyAV, OpenCV, torch and numba; job
modules load numba only when they resample."""

from __future__ import annotations

import subprocess
import sys

LEAN = ["lib.timeline.keyframes", "lib.timeline.segments", "lib.jobs.specs", "lib.jobs.progress"]
HEAVY = ["numpy", "av", "cv2", "torch", "PIL", "numba"]


def test_web_side_modules_do_not_import_media_libraries():
    code = (
        "import sys\n"
        f"for name in {LEAN!r}: __import__(name)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_numba_loads_on_the_first_resample_not_on_import():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import functions.detect, functions.framing, lib.vision.upscale\n"
        "from lib.media import Yuv420\n"
        "from lib.media.resample import resample_crop\n"
        "before = 'numba' in sys.modules\n"
        "y, c = np.zeros((64, 64), np.uint8), np.zeros((32, 32), np.uint8)\n"
        "resample_crop(Yuv420(y, c, c), (1.5, 2.5, 30, 40), 9, 12)\n"
        "print(before, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "True"]
