"""The domain core of the Reel Ballers backend: no FastAPI, no Modal.

The top level is the kernel that everything may import and that imports nothing else of ours:
`config` (settings from the environment), `errors` (the domain errors and their HTTP meaning),
`keys` (the one builder of object keys and ids), `auth` (tokens), `models` (the enums),
`names` (derived display names, rating names) and `action_fields` (validation of gesture
fields, shared by the framing and overlay reducers).

Packages, lowest first; each may import only the kernel and the packages listed before it
(tests/test_layout.py keeps this true and forbids cycles):
storage, timeline → framing, media → db, vision → projects → library → overlay → jobs.
Outside lib: `functions` (job bodies) and `web` (HTTP) import lib; `modal_app` imports both.
"""
