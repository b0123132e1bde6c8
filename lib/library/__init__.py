"""The user's library: games and their videos, annotations (the annotate screen), TSV import
and export, the gallery of final videos, and user settings.

May import the kernel, `lib.storage`, `lib.db`, `lib.framing`, `lib.timeline` and
`lib.projects` (annotating a 5★ clip creates or updates its automatic project).
"""
