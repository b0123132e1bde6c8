"""Job bodies: one module per Modal function (framing, overlay, extract, compile,
before_after), plus `jobkit`, what they all share. Plain Python, no Modal, no HTTP: each takes
a typed spec, an ObjectStore and a progress sink, and returns a typed result.

May import lib (media, vision, timeline, storage, the job specs and progress); never web.
"""
