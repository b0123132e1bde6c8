"""Media I/O and pixel work for the job bodies: ffmpeg binary, probe, streaming decode and
encode, audio, mux, the overlay effects (one class per effect) and clip transitions.

numpy and PyAV are imported here (only job bodies import lib.media; the web image does not).
May import the kernel, `lib.storage` and `lib.timeline`.
"""

from lib.media.audio import AudioJob, AudioPiece, atempo_chain
from lib.media.encode import VideoEncoder, configure_x264, standalone_x264, x264_cli_args
from lib.media.frames import DecodedFrame, FrameReader, Yuv420, copy_frame, new_frame, plane_views
from lib.media.mux import Chapter, mux, read_chapters
from lib.media.probe import MediaInfo, open_input, probe
from lib.media.store_io import local_input, upload_output
from lib.media.tools import ffmpeg_exe, media_error, run_ffmpeg

__all__ = [
    "AudioJob",
    "AudioPiece",
    "Chapter",
    "DecodedFrame",
    "FrameReader",
    "MediaInfo",
    "VideoEncoder",
    "Yuv420",
    "atempo_chain",
    "configure_x264",
    "copy_frame",
    "ffmpeg_exe",
    "local_input",
    "media_error",
    "mux",
    "new_frame",
    "open_input",
    "plane_views",
    "probe",
    "read_chapters",
    "run_ffmpeg",
    "standalone_x264",
    "upload_output",
    "x264_cli_args",
]
