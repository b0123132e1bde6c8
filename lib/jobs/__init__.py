"""Jobs: export records, typed job specs and results, export specs built from a project,
start/wait control, runners (local threads, Modal), the worker that claims, runs and
finalizes a job, progress and its stores (memory, modal.Dict), and ad hoc operations.

The orchestration layer on top of the domain: may import every lib package. Job bodies in
`functions/` are reached only by name (`functions.<name>.run`), never imported here.
"""
