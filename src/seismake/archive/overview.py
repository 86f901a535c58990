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
        One row per SEED id seen on any day: seed_id, latitude, longitude, elevation_m,
        sampling_rate (Hz).
    segments
        All segments of all days (columns of
        :data:`seismake.archive.availability.SEGMENT_COLUMNS`).
    summary
        One row per (day, seed_id) of every channel: seconds of data, fraction of the
        day covered, and the problems reported (objects skipped at listing or reading).
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
    segments = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    segments = segments.reindex(columns=SEGMENT_COLUMNS)
    problems = {}
    for p in problem_files:
        rec = json.loads(Path(p).read_text())
        problems[rec["day"]] = rec["problems"]
    rows = []
    for man in mans:
        day0 = UTCDateTime(man.day)
        for sid in channels.seed_id:
            seg = segments[segments.seed_id == sid]
            seconds = 0.0
            for s in seg.itertuples():
                start = max(UTCDateTime(s.start), day0)
                end = min(UTCDateTime(s.end) + 1.0 / s.sampling_rate, day0 + 86400)
                seconds += max(0.0, end - start)
            issues = [
                p["reason"]
                for p in man.skipped + problems.get(man.day, [])
                if _names_channel(p["object"], sid)
            ]
            rows.append(
                {
                    "day": man.day,
                    "seed_id": sid,
                    "seconds": round(seconds, 3),
                    "coverage": round(seconds / 86400, 6),
                    "problems": "; ".join(issues),
                }
            )
    return channels, segments, pd.DataFrame(rows)


def _names_channel(url: str, seed_id: str) -> bool:
    """True when an object URL is the day-file of ``seed_id`` (SCEDC or SDS name)."""
    net, sta, loc, cha = seed_id.split(".")
    name = url.rsplit("/", 1)[-1]
    return name.startswith((f"{net}{sta:_<5}{cha}{loc:_<3}", f"{seed_id}."))
