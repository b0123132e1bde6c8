"""Vision: the models that look at pixels — upscalers (Lanczos, Real-ESRGAN super-resolution),
the person detector, tracking and the camera-path solver that turns one click on a player into
crop or spotlight keyframes.

Owns every heavy model import (torch, spandrel, onnxruntime), always inside this package and
never at import time of `lib.vision` itself, so the web image never loads them. May import the
kernel (`lib.errors`, `lib.config`, ...), `lib.timeline` and `lib.media`; nothing that knows
about users, databases, jobs or HTTP.
"""
