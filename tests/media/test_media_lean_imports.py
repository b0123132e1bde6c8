"""The modules the web image imports stay free of numpy, PyAV, OpenCV and torch."""

from __future__ import annotations

import subprocess
import sys

LEAN = ["lib.timeline.keyframes", "lib.timeline.segments", "lib.jobs.specs", "lib.jobs.progress"]
HEAVY = ["numpy", "av", "cv2", "torch", "PIL"]


def test_web_side_modules_do_not_import_media_libraries():
    code = (
        "import sys\n"
        f"for name in {LEAN!r}: __import__(name)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
