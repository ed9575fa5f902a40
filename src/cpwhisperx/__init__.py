"""cp-whisperx: films and other media to transcripts, translations and soft-subtitled videos.

The public API imports nothing heavy; models and backends load only when a stage needs them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from cpwhisperx.config import Settings, load_config
from cpwhisperx.errors import CpwxError, ExitCode
from cpwhisperx.jobs import Job, prepare_job
from cpwhisperx.pipeline import run_job

__all__ = ["__version__", "CpwxError", "ExitCode", "Job", "Settings", "load_config", "prepare_job", "run_job"]
