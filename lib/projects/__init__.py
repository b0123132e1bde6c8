"""Projects: projects and their list/detail queries, working clips, clip versions, and the
extraction tasks that cut a project's raw clips out of game videos.

May import the kernel, `lib.storage`, `lib.db`, `lib.framing` and `lib.timeline`.
"""
