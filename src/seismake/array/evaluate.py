"""Array detections against known plane waves, such as the demo archive's truth.

The truth is a table of plane waves (``truth/plane_waves.csv`` of the demo archive):
start, end (ISO UTC), backazimuth_deg, velocity_km_s, fmin_hz, fmax_hz, amplitude.

A detection and a plane wave go together when their time spans overlap, the wave's span
widened by ``time_tol_s`` on both sides (a window centred before a wave's start already
holds part of it: use the longest FK window). Each wave inside the processed time is
paired with the overlapping detection of most pixels; its backazimuth error (degrees,
detection minus truth, in (-180, 180]) and relative velocity error
(``v_detection / v_truth - 1``) are compared with the tolerances.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from obspy import UTCDateTime

from seismake.array.fk import MultiBandFK

TRUTH_COLUMNS = [
    "start",
    "end",
    "backazimuth_deg",
    "velocity_km_s",
    "fmin_hz",
    "fmax_hz",
    "amplitude",
]

COMPARISON_COLUMNS = [
    "status",
    "truth_index",
    "detection_index",
    "truth_start",
    "truth_end",
    "truth_backazimuth_deg",
    "truth_velocity_km_s",
    "start",
    "end",
    "backazimuth_deg",
    "velocity_km_s",
    "peak_semblance",
    "baz_error_deg",
    "velocity_error_rel",
]

#: status of a comparison row
STATUS = {
    "matched": "wave detected within the tolerances",
    "inaccurate": "wave detected, backazimuth or velocity outside the tolerances",
    "missed": "wave inside the processed time without a detection",
    "extra": "a further detection overlapping a wave already paired",
    "false": "detection overlapping no wave of the truth",
    "not processed": "wave outside the processed time",
}


def read_plane_waves(path: str | Path) -> pd.DataFrame:
    """Read a plane-wave truth table; start and end as POSIX seconds.

    Raises
    ------
    ValueError
        When the file lacks one of :data:`TRUTH_COLUMNS` (the message names the file).
    """
    df = pd.read_csv(path)
    missing = set(TRUTH_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{path}: plane-wave table lacks columns {sorted(missing)}")
    df["start"] = [UTCDateTime(s).timestamp for s in df["start"]]
    df["end"] = [UTCDateTime(s).timestamp for s in df["end"]]
    return df[TRUTH_COLUMNS]


def processed_spans(days: Sequence[MultiBandFK]) -> list[tuple[float, float]]:
    """Time spans of the processed records, contiguous days joined, POSIX seconds.

    Parameters
    ----------
    days
        FK results; days without windows cover nothing.

    Returns
    -------
    list of (start, end)
        Sorted, from ``t_start`` of the first to ``t_end`` of the last day of each run of
        days whose records are contiguous (next start one sample after the previous end).
    """
    spans: list[list[float]] = []
    for day in sorted((d for d in days if d.times.size), key=lambda d: d.t_start):
        if spans and abs(day.t_start - spans[-1][1] - 1.0 / day.fs) <= 0.5 / day.fs:
            spans[-1][1] = day.t_end
        else:
            spans.append([day.t_start, day.t_end])
    return [(a, b) for a, b in spans]


def _iso(t: float) -> str:
    return UTCDateTime(t).isoformat() + "Z"


def compare_with_truth(
    detections: pd.DataFrame,
    truth: pd.DataFrame,
    spans: Sequence[tuple[float, float]],
    time_tol_s: float,
    baz_tol_deg: float = 5.0,
    vel_rel_tol: float = 0.05,
) -> pd.DataFrame:
    """Pair detections with the plane waves of the truth.

    Parameters
    ----------
    detections
        Columns start, end (POSIX s), backazimuth_deg, velocity_km_s, peak_semblance,
        n_pixels (:func:`seismake.array.aggregate.aggregate_detections`).
    truth
        Plane waves (:func:`read_plane_waves`).
    spans
        Processed time (:func:`processed_spans`); waves not inside one span are
        reported as ``not processed``.
    time_tol_s
        Widening of each wave's span when looking for overlapping detections, s.
    baz_tol_deg, vel_rel_tol
        Tolerances of a ``matched`` wave: degrees, and relative velocity error.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`, one row per wave and per detection not
        paired with a wave; ``status`` is a key of :data:`STATUS`; times as ISO UTC;
        ``truth_index`` / ``detection_index`` are row numbers of the inputs (-1: none).
    """
    det_start = detections["start"].to_numpy(float)
    det_end = detections["end"].to_numpy(float)
    paired = np.zeros(len(detections), dtype=bool)
    rows = []

    def row(status, i, j):
        out = dict.fromkeys(COMPARISON_COLUMNS, np.nan)
        out.update(status=status, truth_index=i, detection_index=j)
        if i >= 0:
            w = truth.iloc[i]
            out.update(
                truth_start=_iso(w.start),
                truth_end=_iso(w.end),
                truth_backazimuth_deg=w.backazimuth_deg,
                truth_velocity_km_s=w.velocity_km_s,
            )
        if j >= 0:
            d = detections.iloc[j]
            out.update(
                start=_iso(d.start),
                end=_iso(d.end),
                backazimuth_deg=d.backazimuth_deg,
                velocity_km_s=d.velocity_km_s,
                peak_semblance=d.peak_semblance,
            )
        if i >= 0 and j >= 0:
            out["baz_error_deg"] = (d.backazimuth_deg - w.backazimuth_deg + 180.0) % 360.0 - 180.0
            out["velocity_error_rel"] = d.velocity_km_s / w.velocity_km_s - 1.0
        return out

    for i, w in enumerate(truth.itertuples(index=False)):
        overlap = np.flatnonzero(
            (det_start <= w.end + time_tol_s) & (det_end >= w.start - time_tol_s)
        )
        inside = any(a <= w.start and w.end <= b for a, b in spans)
        if not inside:
            rows.append(row("not processed", i, -1))
            paired[overlap] = True
            continue
        if overlap.size == 0:
            rows.append(row("missed", i, -1))
            continue
        best = int(overlap[np.argmax(detections["n_pixels"].to_numpy()[overlap])])
        first = row("matched", i, best)
        ok = (
            abs(first["baz_error_deg"]) <= baz_tol_deg
            and abs(first["velocity_error_rel"]) <= vel_rel_tol
        )
        first["status"] = "matched" if ok else "inaccurate"
        rows.append(first)
        rows.extend(row("extra", i, int(j)) for j in overlap if j != best and not paired[j])
        paired[overlap] = True
    rows.extend(row("false", -1, int(j)) for j in np.flatnonzero(~paired))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
