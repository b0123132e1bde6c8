"""LocalDirStore.delete_prefix removes the directories it emptied (issue 15), and only
those: folders of other users, or still holding files, stay."""

from __future__ import annotations

from lib.storage import LocalDirStore


def folders(store: LocalDirStore) -> set[str]:
    return {p.relative_to(store.root).as_posix() for p in store.root.rglob("*")
            if p.is_dir() and not p.name.startswith(".")}


def test_deleting_a_user_leaves_no_empty_folders(tmp_path):
    store = LocalDirStore(tmp_path / "objects")
    for key in ("u1/database.sqlite", "u1/games/g.mp4", "u1/raw_clips/a/b.mp4",
                "u1/working_videos/w.mp4", "u2/games/g.mp4"):
        store.put_bytes(key, b"x")
    (store.root / "u1" / "uploads").mkdir()  # an empty folder left by an old upload
    assert store.delete_prefix("u1/") == 4
    assert folders(store) == {"u2", "u2/games"}
    assert [i.key for i in store.list("")] == ["u2/games/g.mp4"]


def test_partial_prefix_keeps_folders_still_in_use(tmp_path):
    store = LocalDirStore(tmp_path / "objects")
    for key in ("u1/raw_clips/a.mp4", "u1/raw_clips/b.mp4", "u1/games/old/g.mp4",
                "u1/games/keep.mp4"):
        store.put_bytes(key, b"x")
    assert store.delete_prefix("u1/games/old") == 1
    assert store.delete_prefix("u1/raw_clips/a") == 1
    assert folders(store) == {"u1", "u1/raw_clips", "u1/games"}
    assert store.delete_prefix("nobody/") == 0
    assert store.root.is_dir()
