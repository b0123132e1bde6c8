"""The per-user SQLite schema (spec/data-model.md). Version 3 = this schema
(1 + working_videos.clip_starts; 2 + commit_log).

Timestamps are SQLite `CURRENT_TIMESTAMP` strings ("YYYY-MM-DD HH:MM:SS", UTC): the wire
format the editor already parses. JSON columns hold JSON text.
"""

SCHEMA_VERSION = 3

TABLES = {
    "games": """
CREATE TABLE games (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    video_filename TEXT,
    clip_count INTEGER NOT NULL DEFAULT 0,
    brilliant_count INTEGER NOT NULL DEFAULT 0,
    good_count INTEGER NOT NULL DEFAULT 0,
    interesting_count INTEGER NOT NULL DEFAULT 0,
    mistake_count INTEGER NOT NULL DEFAULT 0,
    blunder_count INTEGER NOT NULL DEFAULT 0,
    aggregate_score INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    video_duration REAL,
    video_width INTEGER,
    video_height INTEGER,
    video_size INTEGER,
    opponent_name TEXT,
    game_date TEXT,
    game_type TEXT CHECK (game_type IS NULL OR game_type IN ('home', 'away', 'tournament')),
    tournament_name TEXT
)""",
    "projects": """
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    aspect_ratio TEXT NOT NULL DEFAULT '9:16'
        CHECK (aspect_ratio IN ('16:9', '9:16', '4:3', '1:1')),
    working_video_id INTEGER REFERENCES working_videos(id) ON DELETE SET NULL,
    final_video_id INTEGER REFERENCES final_videos(id) ON DELETE SET NULL,
    is_auto_created INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_opened_at TIMESTAMP,
    current_mode TEXT NOT NULL DEFAULT 'framing'
        CHECK (current_mode IN ('annotate', 'framing', 'overlay'))
)""",
    "raw_clips": """
CREATE TABLE raw_clips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filename TEXT NOT NULL DEFAULT '',
    rating INTEGER NOT NULL DEFAULT 3 CHECK (rating BETWEEN 1 AND 5),
    tags TEXT NOT NULL DEFAULT '[]',
    name TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    start_time REAL,
    end_time REAL,
    game_id INTEGER REFERENCES games(id) ON DELETE CASCADE,
    auto_project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    default_highlight_regions TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    boundaries_version INTEGER NOT NULL DEFAULT 1,
    boundaries_updated_at TIMESTAMP
)""",
    "working_videos": """
CREATE TABLE working_videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    highlights_data TEXT,
    text_overlays TEXT,
    effect_type TEXT NOT NULL DEFAULT 'original'
        CHECK (effect_type IN ('original', 'brightness_boost', 'dark_overlay')),
    overlay_version INTEGER NOT NULL DEFAULT 0,
    duration REAL,
    width INTEGER,
    height INTEGER,
    fps REAL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    clip_starts TEXT
)""",
    "final_videos": """
CREATE TABLE final_videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL DEFAULT 0,
    filename TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    duration REAL,
    source_type TEXT
        CHECK (source_type IS NULL OR
               source_type IN ('brilliant_clip', 'custom_project', 'annotated_game')),
    game_id INTEGER,
    name TEXT,
    rating_counts TEXT,
    file_size INTEGER,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)""",
    "working_clips": """
CREATE TABLE working_clips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    identity TEXT NOT NULL,
    raw_clip_id INTEGER REFERENCES raw_clips(id) ON DELETE CASCADE,
    uploaded_filename TEXT,
    exported_at TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    crop_data TEXT,
    timing_data TEXT,
    segments_data TEXT,
    raw_clip_version INTEGER,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (identity, version)
)""",
    "export_jobs": """
CREATE TABLE export_jobs (
    id TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL CHECK (type IN ('framing', 'overlay', 'multi_clip', 'annotate')),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'complete', 'error')),
    phase TEXT,
    error TEXT,
    input_data TEXT NOT NULL DEFAULT '{}',
    output_video_id INTEGER,
    output_filename TEXT,
    modal_call_id TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    game_id INTEGER,
    game_name TEXT,
    acknowledged_at TIMESTAMP
)""",
    "extraction_tasks": """
CREATE TABLE extraction_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'complete', 'error')),
    params TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    raw_clip_id INTEGER REFERENCES raw_clips(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    game_id INTEGER REFERENCES games(id) ON DELETE CASCADE
)""",
    "before_after_tracks": """
CREATE TABLE before_after_tracks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    final_video_id INTEGER NOT NULL REFERENCES final_videos(id) ON DELETE CASCADE,
    raw_clip_id INTEGER,
    source_key TEXT NOT NULL,
    start_frame INTEGER NOT NULL,
    end_frame INTEGER NOT NULL,
    clip_index INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)""",
    "user_settings": """
CREATE TABLE user_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings_json TEXT NOT NULL DEFAULT '{}',
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)""",
    # The ids of the latest commits (lib/db/sync.py): each upload carries its own id, written
    # in the same transaction, so a writer whose PUT response was lost can tell from the
    # stored image whether that PUT landed. Pruned to a recent window on every commit.
    "commit_log": """
CREATE TABLE commit_log (
    seq INTEGER PRIMARY KEY,
    commit_id TEXT NOT NULL,
    committed_at REAL NOT NULL
)""",
}

INDEXES = [
    "CREATE INDEX IF NOT EXISTS idx_raw_clips_game_id ON raw_clips(game_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_raw_clips_game_end_time ON raw_clips(game_id, end_time)",
    "CREATE INDEX IF NOT EXISTS idx_raw_clips_auto_project ON raw_clips(auto_project_id)",
    "CREATE INDEX IF NOT EXISTS idx_working_clips_project ON working_clips(project_id, sort_order)",
    "CREATE INDEX IF NOT EXISTS idx_working_clips_raw_clip ON working_clips(raw_clip_id)",
    "CREATE INDEX IF NOT EXISTS idx_working_videos_project_version"
    " ON working_videos(project_id, version DESC)",
    "CREATE INDEX IF NOT EXISTS idx_final_videos_project_version"
    " ON final_videos(project_id, version DESC)",
    "CREATE INDEX IF NOT EXISTS idx_export_jobs_project ON export_jobs(project_id)",
    "CREATE INDEX IF NOT EXISTS idx_export_jobs_status ON export_jobs(status)",
    "CREATE INDEX IF NOT EXISTS idx_extraction_tasks_status ON extraction_tasks(status)",
    "CREATE INDEX IF NOT EXISTS idx_extraction_tasks_raw_clip ON extraction_tasks(raw_clip_id)",
    "CREATE INDEX IF NOT EXISTS idx_before_after_tracks_final_video"
    " ON before_after_tracks(final_video_id)",
]

# Creation order respects references (SQLite allows forward references, but keep it readable).
TABLE_ORDER = [
    "games",
    "working_videos",
    "final_videos",
    "projects",
    "raw_clips",
    "working_clips",
    "export_jobs",
    "extraction_tasks",
    "before_after_tracks",
    "user_settings",
    "commit_log",
]
