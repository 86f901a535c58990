"""Aggregator: time-frequency FK pixels -> detections (the stage Cardinal leaves undone).

A pixel is one (band, time) cell of the multi-band FK results. Pixels with a semblance
at or above a threshold are linked to their 8 neighbours (adjacent band and/or adjacent
time step) when both directions agree: the circular difference of backazimuths is at
most ``baz_tol_deg`` and the trace velocities differ by at most a factor
``1 + vel_rel_tol`` (``|ln(v1 / v2)| <= ln(1 + vel_rel_tol)``). Each connected component
is one detection; components shorter than ``min_duration_s`` or with fewer than
``min_pixels`` pixels are dropped.

A detection spans ``[t_first - dt / 2, t_last + dt / 2]`` on the common time axis
(window centres, step ``dt``) and ``[fmin, fmax]`` of its lowest and highest bands. Its
backazimuth is the semblance-weighted circular mean, its velocity the semblance-weighted
mean of its pixels.

Days are processed one at a time, so an arrival crossing midnight is cut in two;
:func:`aggregate_days` joins the pixels of consecutive days whose records are contiguous
(the next day starts one sample after the previous one ends) into one time axis before
grouping, so such an arrival gives one detection.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from obspy import UTCDateTime
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from seismake.array.fk import MultiBandFK

log = logging.getLogger(__name__)

DETECTION_COLUMNS = [
    "start",
    "end",
    "fmin",
    "fmax",
    "backazimuth_deg",
    "velocity_km_s",
    "peak_semblance",
    "n_pixels",
]

NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))


def circular_difference_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Absolute angular difference in degrees, in [0, 180]."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def aggregate_detections(
    times: np.ndarray,
    f_bands: pd.DataFrame,
    backazimuth: np.ndarray,
    velocity: np.ndarray,
    semblance: np.ndarray,
    semblance_threshold: float = 0.6,
    baz_tol_deg: float = 10.0,
    vel_rel_tol: float = 0.15,
    min_duration_s: float = 0.0,
    min_pixels: int = 6,
) -> pd.DataFrame:
    """Merge consistent time-frequency pixels above a semblance threshold into detections.

    Parameters
    ----------
    times
        Window centres, POSIX seconds, shape (N_t,), increasing.
    f_bands
        The N_f bands (columns fmin, fmax, Hz).
    backazimuth, velocity, semblance
        Shape (N_f, N_t): degrees, km/s, relative power. NaN pixels are ignored.
    semblance_threshold
        Pixels with a semblance at or above this value take part.
    baz_tol_deg
        Largest backazimuth difference between linked neighbours, degrees.
    vel_rel_tol
        Largest relative velocity difference between linked neighbours.
    min_duration_s
        Shortest detection kept, seconds.
    min_pixels
        Fewest pixels of a detection kept.

    Returns
    -------
    pandas.DataFrame
        One row per detection, sorted by start, columns start, end (POSIX s), fmin,
        fmax (Hz), backazimuth_deg, velocity_km_s, peak_semblance, n_pixels.
    """
    times = np.asarray(times, dtype=float)
    baz = np.asarray(backazimuth, dtype=float)
    vel = np.asarray(velocity, dtype=float)
    semb = np.asarray(semblance, dtype=float)
    shape = (len(f_bands), times.size)
    for name, a in (("backazimuth", baz), ("velocity", vel), ("semblance", semb)):
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected (N_f, N_t) = {shape}")
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(baz) & np.isfinite(vel) & (vel > 0) & (semb >= semblance_threshold)
    n_valid = int(valid.sum())
    if n_valid == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in DETECTION_COLUMNS}).astype(
            {"n_pixels": int}
        )
    node = np.full(shape, -1, dtype=np.int64)
    node[valid] = np.arange(n_valid)
    log_vel = np.log(np.where(valid, vel, 1.0))
    max_log = np.log1p(vel_rel_tol)
    rows, cols = [], []
    n_f, n_t = shape
    for df, dt in NEIGHBOURS:
        fa = slice(0, n_f - df)
        fb = slice(df, n_f)
        ta = slice(max(0, -dt), n_t - max(0, dt))
        tb = slice(max(0, dt), n_t - max(0, -dt))
        link = (
            valid[fa, ta]
            & valid[fb, tb]
            & (circular_difference_deg(baz[fa, ta], baz[fb, tb]) <= baz_tol_deg)
            & (np.abs(log_vel[fa, ta] - log_vel[fb, tb]) <= max_log)
        )
        rows.append(node[fa, ta][link])
        cols.append(node[fb, tb][link])
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n_valid, n_valid))
    n_comp, label = connected_components(graph, directed=False)

    f_idx, t_idx = np.nonzero(valid)
    w = semb[valid]
    count = np.bincount(label, minlength=n_comp)
    t_first = np.full(n_comp, n_t)
    t_last = np.full(n_comp, -1)
    np.minimum.at(t_first, label, t_idx)
    np.maximum.at(t_last, label, t_idx)
    band_lo = np.full(n_comp, n_f)
    band_hi = np.full(n_comp, -1)
    np.minimum.at(band_lo, label, f_idx)
    np.maximum.at(band_hi, label, f_idx)
    peak = np.zeros(n_comp)
    np.maximum.at(peak, label, w)
    wsum = np.bincount(label, weights=w, minlength=n_comp)
    rad = np.radians(baz[valid])
    mean_baz = (
        np.degrees(
            np.arctan2(
                np.bincount(label, weights=w * np.sin(rad), minlength=n_comp),
                np.bincount(label, weights=w * np.cos(rad), minlength=n_comp),
            )
        )
        % 360.0
    )
    mean_vel = np.bincount(label, weights=w * vel[valid], minlength=n_comp) / wsum

    dt_axis = float(np.median(np.diff(times))) if times.size > 1 else 0.0
    start = times[t_first] - 0.5 * dt_axis
    end = times[t_last] + 0.5 * dt_axis
    fmin = f_bands["fmin"].to_numpy(float)[band_lo]
    fmax = f_bands["fmax"].to_numpy(float)[band_hi]
    keep = (end - start >= min_duration_s) & (count >= min_pixels)
    log.info(
        "%d pixels above semblance %g form %d groups, %d kept as detections",
        n_valid,
        semblance_threshold,
        n_comp,
        int(keep.sum()),
    )
    out = pd.DataFrame(
        {
            "start": start[keep],
            "end": end[keep],
            "fmin": fmin[keep],
            "fmax": fmax[keep],
            "backazimuth_deg": mean_baz[keep],
            "velocity_km_s": mean_vel[keep],
            "peak_semblance": peak[keep],
            "n_pixels": count[keep].astype(int),
        },
        columns=DETECTION_COLUMNS,
    )
    return out.sort_values("start", kind="stable").reset_index(drop=True)


def _contiguous_runs(days: Sequence[MultiBandFK]) -> list[list[MultiBandFK]]:
    """Days with windows, in time order, grouped into runs of contiguous records."""
    runs: list[list[MultiBandFK]] = []
    for day in sorted((d for d in days if d.times.size), key=lambda d: d.t_start):
        if runs:
            prev = runs[-1][-1]
            if abs(day.t_start - prev.t_end - 1.0 / prev.fs) <= 0.5 / prev.fs:
                runs[-1].append(day)
                continue
        runs.append([day])
    return runs


def aggregate_days(days: Sequence[MultiBandFK], **kwargs) -> pd.DataFrame:
    """Detections of several days, arrivals crossing midnight merged.

    The pixels of days with contiguous records are put on one time axis and grouped
    once by :func:`aggregate_detections`; records separated by a gap are grouped apart.
    Days without windows (no usable data) take no part.

    Parameters
    ----------
    days
        Multi-band FK results of the days, in any order, all with the same bands.
    **kwargs
        Grouping parameters of :func:`aggregate_detections` (semblance_threshold,
        baz_tol_deg, vel_rel_tol, min_duration_s, min_pixels).

    Returns
    -------
    pandas.DataFrame
        Detections sorted by start, columns as :func:`aggregate_detections`.

    Raises
    ------
    ValueError
        When two days have different bands (the message names both days).
    """
    cols = ["fmin", "fmax", "win", "step"]
    ref = None
    for day in days:
        bands = day.f_bands[cols].to_numpy(float)
        if ref is None:
            ref = (day, bands)
        elif bands.shape != ref[1].shape or not np.allclose(bands, ref[1], rtol=1e-9):
            raise ValueError(
                f"days starting {UTCDateTime(ref[0].t_start)} and {UTCDateTime(day.t_start)} "
                "have different frequency bands; process all days with one f_bands table"
            )
    parts = []
    for run in _contiguous_runs(days):
        parts.append(
            aggregate_detections(
                np.concatenate([d.times for d in run]),
                run[0].f_bands,
                np.concatenate([d.backazimuth for d in run], axis=1),
                np.concatenate([d.velocity for d in run], axis=1),
                np.concatenate([d.semblance for d in run], axis=1),
                **kwargs,
            )
        )
        log.info(
            "%d contiguous day(s) from %s: %d detection(s)",
            len(run),
            UTCDateTime(run[0].t_start),
            len(parts[-1]),
        )
    found = [p for p in parts if len(p)]
    if not found:
        f_bands = days[0].f_bands if len(days) else pd.DataFrame({"fmin": [], "fmax": []})
        empty = np.empty((len(f_bands), 0))
        return aggregate_detections(np.empty(0), f_bands, empty, empty, empty, **kwargs)
    out = pd.concat(found, ignore_index=True)
    return out.sort_values("start", kind="stable").reset_index(drop=True)
