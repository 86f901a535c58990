"""One day of array records from a seismake archive, and its multi-band FK.

The elements of a day are the objects of the day's manifest whose station code matches
one of the ``stations`` patterns (fnmatch) and whose channel code matches ``channel``;
their coordinates are the manifest's channel metadata (from StationXML).

A problem with one element never fails the day; the element is left out and the problem
reported (``{"object", "seed_id", "reason"}``):

- an object that cannot be read (:class:`~seismake.archive.ArchiveError` other than
  :class:`~seismake.archive.ArchiveUnreachable`, which stops the day),
- a record whose sampling rate differs from the one most elements share (the FK needs one
  rate; seismake does not resample, see :mod:`seismake.array.geometry`).

Gaps inside an element's record are filled with the mean of its samples and reported; the
FK then runs over the span common to all elements. A day with fewer than
``min_elements`` usable elements gives an FK result without windows (with its bands, so
its file has the layout of any other day); it adds no detection.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd
from obspy import Stream, UTCDateTime

from seismake.archive import Archive, ArchiveError, ArchiveSpec, ArchiveUnreachable, Manifest
from seismake.array.fk import (
    MultiBandFK,
    SlownessGrid,
    sliding_time_array_fk_multifreq,
    slowness_power_map,
)
from seismake.array.geometry import ArrayGeometry, attach_coordinates

log = logging.getLogger(__name__)


def select_array_objects(manifest: Manifest, stations: Sequence[str], channel: str) -> list[dict]:
    """Manifest objects of the array elements, sorted by SEED id.

    Parameters
    ----------
    manifest
        The day's manifest.
    stations
        Station code patterns (fnmatch), e.g. ``["AR*"]``.
    channel
        Channel code or pattern, e.g. ``BHZ``.
    """
    chosen = [
        o
        for o in manifest.objects
        if any(fnmatchcase(o["station"], p) for p in stations)
        and fnmatchcase(o["channel"], channel)
    ]
    return sorted(chosen, key=lambda o: o["seed_id"])


def read_array_day(
    archive: Archive, manifest: Manifest, stations: Sequence[str], channel: str
) -> tuple[Stream, list[dict]]:
    """Read the array elements of one day, one trace per element with coordinates.

    Parameters
    ----------
    archive
        The archive the manifest lists.
    manifest
        The day's manifest (objects and channel coordinates).
    stations, channel
        Element selection, as for :func:`select_array_objects`.

    Returns
    -------
    stream
        One float64 trace per usable element, ``stats.coordinates`` set, sorted by id.
    problems
        ``{"object", "seed_id", "reason"}`` of every element left out or repaired.

    Raises
    ------
    ArchiveUnreachable
        When the archive cannot be reached at all.
    """
    st = Stream()
    problems: list[dict] = []
    urls: dict[str, str] = {}
    for obj in select_array_objects(manifest, stations, channel):
        url = archive.url_of(obj["path"])
        try:
            part = archive.read_stream(obj["path"])
        except ArchiveUnreachable:
            raise
        except ArchiveError as exc:
            problems.append({"object": url, "seed_id": obj["seed_id"], "reason": str(exc)})
            continue
        part = part.select(id=obj["seed_id"])
        rates = {float(tr.stats.sampling_rate) for tr in part}
        if len(part) == 0 or len(rates) != 1:
            reason = "no trace of this id" if len(part) == 0 else f"several rates {sorted(rates)}"
            problems.append({"object": url, "seed_id": obj["seed_id"], "reason": reason})
            continue
        for tr in part:
            tr.data = tr.data.astype(np.float64)
        part.merge(method=1, fill_value=None)
        tr = part[0]
        if np.ma.isMaskedArray(tr.data):
            n_gap = int(np.ma.count_masked(tr.data))
            tr.data = tr.data.filled(float(tr.data.mean()) if tr.data.count() else 0.0)
            if n_gap:
                problems.append(
                    {
                        "object": url,
                        "seed_id": tr.id,
                        "reason": f"{n_gap} missing samples filled with the record mean",
                    }
                )
        urls[tr.id] = url
        st.append(tr)
    if len(st):
        common = Counter(float(tr.stats.sampling_rate) for tr in st).most_common(1)[0][0]
        for tr in [tr for tr in st if float(tr.stats.sampling_rate) != common]:
            problems.append(
                {
                    "object": urls[tr.id],
                    "seed_id": tr.id,
                    "reason": f"sampling rate {tr.stats.sampling_rate:g} Hz, most elements "
                    f"{common:g} Hz: left out",
                }
            )
            st.remove(tr)
    attach_coordinates(st, manifest.channels)
    for p in problems:
        log.warning("%s: %s", p["object"], p["reason"])
    log.info(
        "%s: %d array element(s) read (%s), %d problem(s)",
        manifest.day,
        len(st),
        ", ".join(tr.id for tr in st),
        len(problems),
    )
    return st, problems


def empty_fk(
    day: str, f_bands: pd.DataFrame, grid: SlownessGrid, sl_corr: tuple[float, float]
) -> MultiBandFK:
    """FK result of a day without usable array data: no window, the bands kept.

    Parameters
    ----------
    day
        ISO date; ``t_start`` and ``t_end`` are its midnight.
    f_bands
        The bands (columns band, fmin, fcenter, fmax, win, step).
    grid, sl_corr
        Slowness grid and static correction, recorded as for a processed day.
    """
    t0 = UTCDateTime(day).timestamp
    empty = np.empty((len(f_bands), 0))
    none = np.empty(0)
    return MultiBandFK(
        times=none,
        backazimuth=empty,
        velocity=empty,
        semblance=empty,
        f_bands=f_bands.reset_index(drop=True)[["band", "fmin", "fcenter", "fmax", "win", "step"]],
        element="",
        geometry=ArrayGeometry((), none, none, none, none, none, none, (np.nan, np.nan, np.nan)),
        grid=grid,
        sl_corr=(float(sl_corr[0]), float(sl_corr[1])),
        fs=np.nan,
        t_start=t0,
        t_end=t0,
    )


def array_day_fk(
    st: Stream,
    day: str,
    f_bands: pd.DataFrame,
    min_elements: int = 3,
    n_workers: int = 1,
    sll_x: float = -3.6,
    slm_x: float = 3.6,
    sll_y: float = -3.6,
    slm_y: float = 3.6,
    sl_s: float = 0.18,
    sl_corr: tuple[float, float] = (0.0, 0.0),
) -> MultiBandFK:
    """Multi-band sliding-window FK of one day of array records.

    Parameters
    ----------
    st
        One trace per element with coordinates (:func:`read_array_day`).
    day
        ISO date of the day (for the result of a day without data).
    f_bands
        The bands (:mod:`seismake.array.fbands`).
    min_elements
        Fewest elements processed; with fewer, the result has no window.
    n_workers, sll_x, slm_x, sll_y, slm_y, sl_s, sl_corr
        As for :func:`seismake.array.fk.sliding_time_array_fk_multifreq`.

    Returns
    -------
    MultiBandFK
        Over the span common to all elements, the first element (by id) as reference.
    """
    grid = SlownessGrid(sll_x, slm_x, sll_y, slm_y, sl_s)
    if len(st) < max(2, min_elements):
        log.warning(
            "%s: %d usable array element(s), fewer than min_elements = %d: no FK for this day",
            day,
            len(st),
            min_elements,
        )
        return empty_fk(day, f_bands, grid, sl_corr)
    return sliding_time_array_fk_multifreq(
        st,
        st[0].id,
        f_bands,
        n_workers=n_workers,
        sll_x=sll_x,
        slm_x=slm_x,
        sll_y=sll_y,
        slm_y=slm_y,
        sl_s=sl_s,
        sl_corr=sl_corr,
    )


def best_window(days: Sequence[MultiBandFK]) -> tuple[int, int, int] | None:
    """The pixel of highest semblance over several days.

    Returns
    -------
    (day, band, time) indices into ``days``, the rows of ``f_bands`` and ``times``, or
    None when no day has a window.
    """
    best, where = -np.inf, None
    for i, day in enumerate(days):
        if day.times.size == 0 or not np.isfinite(day.semblance).any():
            continue
        k, j = np.unravel_index(np.nanargmax(day.semblance), day.semblance.shape)
        if day.semblance[k, j] > best:
            best, where = float(day.semblance[k, j]), (i, int(k), int(j))
    return where


def best_window_power(
    days: Sequence[MultiBandFK],
    manifests: Sequence[Manifest],
    stations: Sequence[str],
    channel: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Slowness-plane power of the window of highest semblance over several days.

    The window has the length of its band's window and is centred on the pixel's time;
    the records are read again from the archive of the day's manifest.

    Parameters
    ----------
    days
        FK results of the days.
    manifests
        The days' manifests, in the same order.
    stations, channel
        Element selection used for the FK (:func:`select_array_objects`).

    Returns
    -------
    sx, sy, relpow, title
        Slownesses (s/km, shapes (n_x,), (n_y,)), relative power (n_x, n_y), and a title
        naming the window. Without any window: the grid of the first day, zero power.
    """
    where = best_window(days)
    if where is None:
        grid = days[0].grid if len(days) else SlownessGrid()
        return grid.sx, grid.sy, np.zeros((grid.n_x, grid.n_y)), "no FK window in the run"
    i, k, j = where
    day, manifest = days[i], manifests[i]
    band = day.f_bands.iloc[k]
    st, _ = read_array_day(Archive(ArchiveSpec(**manifest.archive)), manifest, stations, channel)
    sx, sy, power = slowness_power_map(
        st,
        day.element,
        float(band.fmin),
        float(band.fmax),
        float(day.times[j]),
        float(band.win),
        sll_x=day.grid.sll_x,
        slm_x=day.grid.slm_x,
        sll_y=day.grid.sll_y,
        slm_y=day.grid.slm_y,
        sl_s=day.grid.sl_s,
        sl_corr=day.sl_corr,
    )
    when = UTCDateTime(day.times[j]).strftime("%Y-%m-%d %H:%M:%S")
    title = f"{when}, {band.fmin:.3g}-{band.fmax:.3g} Hz"
    return sx, sy, power, title
