"""Files of the array branch: one day's multi-band FK (HDF5) and the detections (CSV).

FK file layout (h5py)::

    /times                 (N_t,)  float64  window centres, POSIX seconds (UTC)
    /backazimuth           (N_f, N_t) float64  degrees clockwise from north, [0, 360)
    /velocity              (N_f, N_t) float64  trace velocity, km/s
    /semblance             (N_f, N_t) float64  relative beam power, 0-1
    /bands/{band,fmin,fcenter,fmax,win,step}   (N_f,)  the f_bands table (Hz, s)
    /elements/{id,latitude,longitude,elevation_m,east_m,north_m,up_m}   (N,)
    root attributes        format, version, element, fs_hz, t_start/t_end (ISO UTC),
                           slowness grid (s/km), sl_corr (s/km), array centre, method

Every dataset carries a ``units`` attribute. Files are written to a temporary file in
the target directory and renamed, so a failed write leaves no partial file.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from obspy import UTCDateTime

from seismake.array.aggregate import DETECTION_COLUMNS
from seismake.array.fk import TAPER_FRACTION, MultiBandFK, SlownessGrid
from seismake.array.geometry import ArrayGeometry
from seismake.fileio import atomic_output

FORMAT = "seismake.array.fk"
VERSION = 1

BAND_UNITS = {"band": "1", "fmin": "Hz", "fcenter": "Hz", "fmax": "Hz", "win": "s", "step": "s"}
ELEMENT_UNITS = {
    "latitude": "degree",
    "longitude": "degree",
    "elevation_m": "m",
    "east_m": "m",
    "north_m": "m",
    "up_m": "m",
}


class ArrayFileError(OSError):
    """An array-branch file is missing, unreadable or not in the expected layout."""


def _iso(posix: float) -> str:
    return UTCDateTime(posix).isoformat() + "Z"


def write_fk_hdf5(result: MultiBandFK, path: str | Path) -> None:
    """Write one multi-band FK result (see the module docstring for the layout)."""

    def write(tmp: str) -> None:
        with h5py.File(tmp, "w") as h5:
            h5.attrs.update(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "element": result.element,
                    "fs_hz": result.fs,
                    "t_start": _iso(result.t_start),
                    "t_end": _iso(result.t_end),
                    "sll_x": result.grid.sll_x,
                    "slm_x": result.grid.slm_x,
                    "sll_y": result.grid.sll_y,
                    "slm_y": result.grid.slm_y,
                    "sl_s": result.grid.sl_s,
                    "slowness_units": "s/km",
                    "sl_corr": np.asarray(result.sl_corr, dtype=float),
                    "center_longitude": result.geometry.center[0],
                    "center_latitude": result.geometry.center[1],
                    "center_elevation_m": result.geometry.center[2],
                    "method": "conventional FK beamforming, relative power (ObsPy method=0)",
                    "taper": f"cosine, p={TAPER_FRACTION}",
                    "time_reference": "window centre",
                }
            )
            ds = h5.create_dataset("times", data=np.asarray(result.times, dtype=float))
            ds.attrs["units"] = "s since 1970-01-01T00:00:00Z"
            for name, data, units in (
                ("backazimuth", result.backazimuth, "degree"),
                ("velocity", result.velocity, "km/s"),
                ("semblance", result.semblance, "1"),
            ):
                ds = h5.create_dataset(name, data=np.asarray(data, dtype=float), compression="gzip")
                ds.attrs["units"] = units
            bands = h5.create_group("bands")
            for col, units in BAND_UNITS.items():
                ds = bands.create_dataset(col, data=result.f_bands[col].to_numpy())
                ds.attrs["units"] = units
            el = h5.create_group("elements")
            el.create_dataset(
                "id", data=np.array(result.geometry.ids, dtype=object), dtype=h5py.string_dtype()
            )
            for col, units in ELEMENT_UNITS.items():
                ds = el.create_dataset(col, data=np.asarray(getattr(result.geometry, col)))
                ds.attrs["units"] = units

    with atomic_output(path) as tmp:
        write(tmp)


def read_fk_hdf5(path: str | Path) -> MultiBandFK:
    """Read a file written by :func:`write_fk_hdf5` (``bands`` of the result is empty).

    Raises
    ------
    ArrayFileError
        When the file cannot be opened or lacks a part of the layout (named).
    """
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise ArrayFileError(f"{path}: cannot open as HDF5 ({exc})") from exc
    with h5:
        if h5.attrs.get("format") != FORMAT:
            raise ArrayFileError(f"{path}: not a {FORMAT} file")
        try:
            a = dict(h5.attrs)
            f_bands = pd.DataFrame({c: h5["bands"][c][()] for c in BAND_UNITS})
            el = h5["elements"]
            geometry = ArrayGeometry(
                ids=tuple(s.decode() if isinstance(s, bytes) else s for s in el["id"][()]),
                **{c: el[c][()] for c in ELEMENT_UNITS},
                center=(
                    float(a["center_longitude"]),
                    float(a["center_latitude"]),
                    float(a["center_elevation_m"]),
                ),
            )
            return MultiBandFK(
                times=h5["times"][()],
                backazimuth=h5["backazimuth"][()],
                velocity=h5["velocity"][()],
                semblance=h5["semblance"][()],
                f_bands=f_bands,
                element=str(a["element"]),
                geometry=geometry,
                grid=SlownessGrid(
                    float(a["sll_x"]),
                    float(a["slm_x"]),
                    float(a["sll_y"]),
                    float(a["slm_y"]),
                    float(a["sl_s"]),
                ),
                sl_corr=(float(a["sl_corr"][0]), float(a["sl_corr"][1])),
                fs=float(a["fs_hz"]),
                t_start=UTCDateTime(str(a["t_start"])).timestamp,
                t_end=UTCDateTime(str(a["t_end"])).timestamp,
            )
        except KeyError as exc:
            raise ArrayFileError(f"{path}: missing {exc.args[0]!r} in the FK layout") from exc


def write_detections_csv(detections: pd.DataFrame, path: str | Path) -> None:
    """Write detections as CSV, start and end as ISO-8601 UTC strings."""
    missing = set(DETECTION_COLUMNS) - set(detections.columns)
    if missing:
        raise ValueError(f"detections lack columns {sorted(missing)}")
    out = detections[DETECTION_COLUMNS].copy()
    out["start"] = [_iso(t) for t in out["start"]]
    out["end"] = [_iso(t) for t in out["end"]]
    with atomic_output(path) as tmp:
        out.to_csv(tmp, index=False, float_format="%.6f")


def read_detections_csv(path: str | Path) -> pd.DataFrame:
    """Read detections written by :func:`write_detections_csv`; start and end as POSIX s."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as exc:
        raise ArrayFileError(f"{path}: cannot read detections ({exc})") from exc
    missing = set(DETECTION_COLUMNS) - set(df.columns)
    if missing:
        raise ArrayFileError(f"{path}: missing columns {sorted(missing)}")
    df["start"] = [UTCDateTime(s).timestamp for s in df["start"]]
    df["end"] = [UTCDateTime(s).timestamp for s in df["end"]]
    return df[DETECTION_COLUMNS]
