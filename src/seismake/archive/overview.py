"""Summaries over many days: channel table, all segments, seconds of data per channel-day."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from obspy import UTCDateTime

from seismake.archive.availability import SEGMENT_COLUMNS
from seismake.archive.manifest import read_manifest


def summarize(
    manifests: Sequence[str | Path],
    segment_files: Sequence[str | Path],
    problem_files: Sequence[str | Path],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Combine per-day manifests and availability files.

    Returns
    -------
    channels
        One row per SEED id kept on any day: seed_id, latitude, longitude, elevation_m,
        sampling_rate (Hz).
    segments
        All segments of all days (columns of
        :data:`seismake.archive.availability.SEGMENT_COLUMNS`).
    summary
        One row per day and SEED id (kept or skipped on any day): seconds of data,
        fraction of the day covered, and the problems reported for it (skipped at
        listing or unreadable).
    """
    mans = [read_manifest(p) for p in manifests]
    meta = {}
    for man in mans:
        meta.update(man.channels)
    channels = pd.DataFrame(
        [{"seed_id": sid, **m} for sid, m in sorted(meta.items())],
        columns=["seed_id", "latitude", "longitude", "elevation_m", "sampling_rate"],
    )
    frames = [pd.read_csv(p) for p in segment_files]
    segments = pd.concat(frames, ignore_index=True).reindex(columns=SEGMENT_COLUMNS)
    issues: dict[tuple[str, str], list[str]] = {}
    for man in mans:
        for item in man.skipped:
            issues.setdefault((man.day, item["seed_id"]), []).append(item["reason"])
    for p in problem_files:
        rec = json.loads(Path(p).read_text())
        for item in rec["problems"]:
            issues.setdefault((rec["day"], item["seed_id"]), []).append(item["reason"])
    seed_ids = sorted(set(meta) | {sid for _, sid in issues})
    rows = []
    for man in mans:
        day0 = UTCDateTime(man.day)
        for sid in seed_ids:
            seconds = 0.0
            for s in segments[segments.seed_id == sid].itertuples():
                start = max(UTCDateTime(s.start), day0)
                end = min(UTCDateTime(s.end) + 1.0 / s.sampling_rate, day0 + 86400)
                seconds += max(0.0, end - start)
            rows.append(
                {
                    "day": man.day,
                    "seed_id": sid,
                    "seconds": round(seconds, 3),
                    "coverage": round(seconds / 86400, 6),
                    "problems": "; ".join(issues.get((man.day, sid), [])),
                }
            )
    return channels, segments, pd.DataFrame(rows)
