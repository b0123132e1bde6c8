"""Overlay: the 8 spotlight gestures as pure reducers, the overlay data of a project, highlight
reuse (regions carried between working video and raw clips), and before/after comparison
tracks.

May import the kernel and every lib package below it (storage, timeline, framing, db, projects,
library); never `lib.jobs`.
"""
