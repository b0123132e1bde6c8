"""Events published by two processes at once: none lost, none doubled (the Dict protocol:
one key per event, seq taken by an atomic put with skip_if_exists)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from lib.jobs.progress_sqlite import SqliteProgressStore
from lib.jobs.progress_store import (
    MAX_EVENTS,
    MemoryProgressStore,
    event_key,
    events_after,
    latest_event_seq,
    publish_event,
)

ROOT = Path(__file__).resolve().parents[2]
PER_PROCESS = 60
PUBLISHER = """
import json, sys
from lib.jobs.progress_sqlite import SqliteProgressStore
from lib.jobs.progress_store import publish_event
store = SqliteProgressStore(sys.argv[1])
name = sys.argv[2]
sys.stdin.readline()  # both processes start publishing together
seqs = [publish_event(store, "coach", {"type": "extraction_complete", "clip_id": f"{name}{i}"})
        for i in range(int(sys.argv[3]))]
print(json.dumps(seqs))
"""


def test_two_processes_publishing_together(tmp_path):
    path = tmp_path / "progress.sqlite"
    SqliteProgressStore(path)
    procs = [subprocess.Popen([sys.executable, "-c", PUBLISHER, str(path), name,
                               str(PER_PROCESS)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for name in ("a", "b")]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.communicate(timeout=60)[0]) for proc in procs]
    seqs = results[0] + results[1]
    assert sorted(seqs) == list(range(1, 2 * PER_PROCESS + 1))  # each seq taken exactly once
    store = SqliteProgressStore(path)
    assert asyncio.run(latest_event_seq(store, "coach")) == 2 * PER_PROCESS
    kept, last = asyncio.run(events_after(store, "coach", 0))
    assert last == 2 * PER_PROCESS
    assert [e["seq"] for e in kept] == list(range(2 * PER_PROCESS - MAX_EVENTS + 1,
                                                  2 * PER_PROCESS + 1))
    owner = {seq: name for name, got in zip("ab", results, strict=True) for seq in got}
    for event in kept:  # every kept event is the one its publisher was given the seq for
        assert event["clip_id"].startswith(owner[event["seq"]])
    assert store.get(event_key("coach", 1)) == {"seq": 1, "dropped": True}  # past the window


def test_a_lagging_head_hint_is_probed_past():
    store = MemoryProgressStore()
    for i in range(3):
        publish_event(store, "u", {"i": i})
    store.put("events:u:head", 1)  # a racing publisher wrote an older hint last
    assert publish_event(store, "u", {"i": 3}) == 4
    assert asyncio.run(latest_event_seq(store, "u")) == 4
    events, last = asyncio.run(events_after(store, "u", 0))
    assert [e["i"] for e in events] == [0, 1, 2, 3] and last == 4
