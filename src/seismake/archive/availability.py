"""Data availability of one day: the time segments each channel object really holds.

Reading the miniSEED headers of every object of a manifest finds gaps, short days,
corrupt objects and sampling rates that disagree with StationXML. Problems are
reported per object and never fail the day.
"""

from __future__ import annotations

import logging

import pandas as pd

from seismake.archive.errors import ArchiveError, ArchiveUnreachable
from seismake.archive.manifest import Manifest
from seismake.archive.store import Archive

log = logging.getLogger(__name__)

SEGMENT_COLUMNS = ["seed_id", "start", "end", "sampling_rate", "npts"]


def scan_day(archive: Archive, manifest: Manifest) -> tuple[pd.DataFrame, list[dict]]:
    """Segments of every object of ``manifest`` and the problems found.

    Returns
    -------
    segments
        One row per contiguous trace: seed_id, start and end (ISO, UTC),
        sampling_rate (Hz), npts.
    problems
        ``{"object": url, "seed_id": id, "reason": text}`` for corrupt objects and
        sampling rates that disagree with StationXML (they contribute no segments).
    """
    rows: list[dict] = []
    problems: list[dict] = []
    for obj in manifest.objects:
        url = archive.url_of(obj["path"])
        try:
            st = archive.read_stream(obj["path"], headonly=True)
        except ArchiveUnreachable:
            raise
        except ArchiveError as exc:
            problems.append({"object": url, "seed_id": obj["seed_id"], "reason": str(exc)})
            continue
        expected = manifest.channels[obj["seed_id"]]["sampling_rate"]
        rates = sorted({float(tr.stats.sampling_rate) for tr in st})
        if expected is not None and any(abs(r - expected) > 1e-6 * expected for r in rates):
            problems.append(
                {
                    "object": url,
                    "seed_id": obj["seed_id"],
                    "reason": f"sampling rate {rates} Hz in data, {expected} Hz in StationXML",
                }
            )
            continue
        for tr in st:
            rows.append(
                {
                    "seed_id": tr.id,
                    "start": str(tr.stats.starttime),
                    "end": str(tr.stats.endtime),
                    "sampling_rate": float(tr.stats.sampling_rate),
                    "npts": int(tr.stats.npts),
                }
            )
    for p in problems:
        log.warning("%s: %s", p["object"], p["reason"])
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS), problems
