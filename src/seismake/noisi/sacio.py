"""Observed and modelled correlations as SAC files with the noisi headers (paper Appendix A).

Header use (station 1 is the first, station 2 the second station of the pair;
a positive lag means that the signal arrives later at station 2):

======  =====================================================
b, e    minimum and maximum lag in s
stla    latitude of station 1            stlo  longitude of station 1
evla    latitude of station 2            evlo  longitude of station 2
user0   number of stacked windows        user1 window length in s
user2   window overlap                   dist  station distance in metres
az      azimuth station 1 -> 2 (deg)     baz   back azimuth (deg)
knetwk  network of station 1             kstnm station code of station 1
kcmpnm  channel of station 1             kuser0 network of station 2
kevnm   station code of station 2        kuser1 location of station 2
kuser2  channel of station 2             kt0, kt1 first and last day (YYYYjjj)
======  =====================================================

The location code of station 1 goes to ``khole``, where ObsPy (and therefore
noisi) reads a trace's location. ``lcalda`` is false so that no SAC reader
overwrites the distance in metres with one in kilometres. Observed stacks are
divided by ``user0`` on reading, as noisi does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from obspy.io.sac import SACTrace

from seismake.fileio import atomic_output
from seismake.geodesy import geodesic_inverse

logger = logging.getLogger(__name__)

ESSENTIAL_HEADERS = (
    "b",
    "stla",
    "stlo",
    "evla",
    "evlo",
    "dist",
    "knetwk",
    "kstnm",
    "kcmpnm",
    "kuser0",
    "kevnm",
    "kuser2",
)


class CorrelationFileError(ValueError):
    """A correlation SAC file lacks an essential header or holds invalid values."""


@dataclass
class CorrelationTrace:
    """One correlation trace and its Appendix A metadata.

    Attributes
    ----------
    data : np.ndarray
        Samples at lags ``begin_s + n delta_s``, shape (npts,).
    delta_s : float
        Sampling interval in s.
    begin_s : float
        First lag in s (negative for a two-sided correlation).
    station1, station2 : str
        SEED identifiers ``NET.STA.LOC.CHA``.
    lat1, lon1, lat2, lon2 : float
        Station coordinates in degrees.
    n_stacked : float
        Number of stacked windows (``user0``).
    window_length_s, window_overlap : float, optional
        Correlation window length in s and overlap (``user1``, ``user2``).
    first_day, last_day : str, optional
        Dates of the earliest and latest window, ``YYYYjjj`` (``kt0``, ``kt1``).
    dist_m, az_deg, baz_deg : float, optional
        Pair geometry; computed on WGS84 from the coordinates when not given.
    """

    data: np.ndarray
    delta_s: float
    begin_s: float
    station1: str
    station2: str
    lat1: float
    lon1: float
    lat2: float
    lon2: float
    n_stacked: float = 1.0
    window_length_s: float | None = None
    window_overlap: float | None = None
    first_day: str | None = None
    last_day: str | None = None
    dist_m: float | None = None
    az_deg: float | None = None
    baz_deg: float | None = None

    def __post_init__(self) -> None:
        if self.dist_m is None or self.az_deg is None or self.baz_deg is None:
            dist, az, baz = geodesic_inverse(self.lat1, self.lon1, self.lat2, self.lon2)
            self.dist_m = float(dist) if self.dist_m is None else self.dist_m
            self.az_deg = float(az) if self.az_deg is None else self.az_deg
            self.baz_deg = float(baz) if self.baz_deg is None else self.baz_deg

    @property
    def lags_s(self) -> np.ndarray:
        """Lag of each sample in s, shape (npts,)."""
        return self.begin_s + self.delta_s * np.arange(self.data.size)


def correlation_filename(station1: str, station2: str) -> str:
    """File name of a pair's correlation: ``NET.STA.LOC.CHA--NET.STA.LOC.CHA.sac``."""
    return f"{station1}--{station2}.sac"


def _split_id(seed_id: str, name: str) -> tuple[str, str, str, str]:
    parts = seed_id.split(".")
    if len(parts) != 4 or not parts[0] or not parts[1] or not parts[3]:
        raise CorrelationFileError(f"{name}: {seed_id!r} is not a SEED id NET.STA.LOC.CHA")
    return parts[0], parts[1], parts[2], parts[3]


def write_correlation_sac(path: str | Path, trace: CorrelationTrace) -> None:
    """Write one correlation as SAC with the Appendix A headers, atomically."""
    net1, sta1, loc1, cha1 = _split_id(trace.station1, str(path))
    net2, sta2, loc2, cha2 = _split_id(trace.station2, str(path))
    if trace.delta_s <= 0:
        raise CorrelationFileError(f"{path}: sampling interval must be positive")
    headers = {
        "delta": float(trace.delta_s),
        "b": float(trace.begin_s),
        "stla": trace.lat1,
        "stlo": trace.lon1,
        "evla": trace.lat2,
        "evlo": trace.lon2,
        "user0": float(trace.n_stacked),
        "dist": float(trace.dist_m),
        "az": float(trace.az_deg),
        "baz": float(trace.baz_deg),
        "knetwk": net1,
        "kstnm": sta1,
        "kcmpnm": cha1,
        "kuser0": net2,
        "kevnm": sta2,
        "kuser1": loc2,
        "kuser2": cha2,
        "lcalda": False,
    }
    if loc1:
        headers["khole"] = loc1
    optional = {
        "user1": trace.window_length_s,
        "user2": trace.window_overlap,
        "kt0": trace.first_day,
        "kt1": trace.last_day,
    }
    headers.update({k: v for k, v in optional.items() if v is not None})
    sac = SACTrace(data=np.asarray(trace.data, dtype=np.float32), **headers)
    with atomic_output(path) as tmp:
        sac.write(str(tmp))


def read_correlation_sac(path: str | Path, observed: bool = True) -> CorrelationTrace:
    """Read a correlation SAC file and check its Appendix A headers.

    Parameters
    ----------
    path : str or Path
        SAC file.
    observed : bool
        Observed stacks are divided by ``user0`` (number of stacked windows),
        which must then be present and positive.

    Raises
    ------
    CorrelationFileError
        Naming the file and the missing or invalid header.
    """
    path = Path(path)
    try:
        sac = SACTrace.read(str(path))
    except Exception as exc:  # ObsPy raises several types for malformed SAC files
        raise CorrelationFileError(f"{path}: cannot read as SAC ({exc})") from exc
    required = ESSENTIAL_HEADERS + (("user0",) if observed else ())
    for header in required:
        value = getattr(sac, header)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CorrelationFileError(f"{path}: missing essential SAC header {header!r}")
    if sac.delta is None or sac.delta <= 0:
        raise CorrelationFileError(f"{path}: SAC header 'delta' must be positive")
    data = np.asarray(sac.data, dtype=np.float64)
    n_stacked = float(sac.user0) if sac.user0 is not None else 1.0
    if observed:
        if n_stacked <= 0:
            raise CorrelationFileError(
                f"{path}: SAC header 'user0' must be positive, got {n_stacked}"
            )
        data = data / n_stacked
    loc1 = (sac.khole or "").strip()
    loc2 = (sac.kuser1 or "").strip()
    return CorrelationTrace(
        data=data,
        delta_s=float(sac.delta),
        begin_s=float(sac.b),
        station1=f"{sac.knetwk.strip()}.{sac.kstnm.strip()}.{loc1}.{sac.kcmpnm.strip()}",
        station2=f"{sac.kuser0.strip()}.{sac.kevnm.strip()}.{loc2}.{sac.kuser2.strip()}",
        lat1=float(sac.stla),
        lon1=float(sac.stlo),
        lat2=float(sac.evla),
        lon2=float(sac.evlo),
        n_stacked=n_stacked,
        window_length_s=None if sac.user1 is None else float(sac.user1),
        window_overlap=None if sac.user2 is None else float(sac.user2),
        first_day=sac.kt0.strip() if sac.kt0 else None,
        last_day=sac.kt1.strip() if sac.kt1 else None,
        dist_m=float(sac.dist),
        az_deg=None if sac.az is None else float(sac.az),
        baz_deg=None if sac.baz is None else float(sac.baz),
    )
