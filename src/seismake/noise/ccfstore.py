"""One HDF5 file per day holding every pair and component combination.

Layout (all arrays as datasets, scalars as attributes)::

    /                      attrs: format, version, day, sampling_rate, reason, components,
                                  n_pair, units, sign_convention
    /params                attrs: every CorrelationParams field
    /data                  (n_pair, n_comp, n_sub, n_lag) float32
    /ngood                 (n_pair, n_comp, n_sub) int32
    /lags_s                (n_lag,) float64, units s
    /window_start          (n_win,) float64, s since 1970-01-01T00:00:00Z
    /substack_start        (n_sub,) float64, s since 1970-01-01T00:00:00Z
    /pairs/station1, station2        (n_pair,) str NET.STA.LOC
    /pairs/channel1, channel2        (n_pair, n_comp) str ('' where missing)
    /pairs/coords1, coords2          (n_pair, 3) latitude deg, longitude deg, elevation m
    /pairs/distance_km, azimuth_deg, backazimuth_deg   (n_pair,) float64
    /channels/id, gap_s, nonfinite, dropped   per channel: seconds missing, NaN/Inf samples
                                              replaced, drop reason ('' if kept)

A day without usable data is a file with ``n_pair = 0`` and ``reason`` set.
Files are written to a temporary name in the same directory and renamed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import h5py
import numpy as np

from seismake.directio import DirectDataset, contiguous_offset, create_direct_dataset
from seismake.fileio import atomic_output
from seismake.noise.correlate import DayCorrelations
from seismake.noise.params import CorrelationParams, StackParams

FORMAT = "seismake.noise.ccf"
VERSION = 1
STR = h5py.string_dtype("utf-8")
P = TypeVar("P", CorrelationParams, StackParams)


class CorrelationFileError(OSError):
    """A day-correlation file is missing, unreadable or not in the expected format."""


def data_units(params: CorrelationParams) -> str:
    """Units of the stored correlations for the given parameters."""
    if params.cc_method == "xcorr" and params.time_norm == "no" and params.freq_norm == "no":
        return "(m/s)^2" if params.rm_resp == "inv" else "counts^2"
    return "1 (normalized)"


def write_atomic_h5(path: str | os.PathLike, write: Callable[[h5py.File], None]) -> None:
    """Call ``write`` on a new HDF5 file next to ``path``, then rename it to ``path``."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as h5:
        write(h5)


def write_str_dataset(group: h5py.Group, name: str, values: np.ndarray) -> None:
    """Write an array of strings as a UTF-8 string dataset."""
    group.create_dataset(name, data=np.asarray(values, dtype=object), dtype=STR)


def _write_day(h5: h5py.File, day: DayCorrelations) -> None:
    """Write a day's correlations and metadata into an open, new HDF5 file."""
    h5.attrs["format"] = FORMAT
    h5.attrs["version"] = VERSION
    h5.attrs["day"] = day.day
    h5.attrs["sampling_rate"] = day.sampling_rate
    h5.attrs["reason"] = day.reason
    h5.attrs["components"] = list(day.components)
    h5.attrs["n_pair"] = day.n_pair
    h5.attrs["units"] = data_units(day.params)
    h5.attrs["sign_convention"] = (
        "C(tau) = sum_t u1(t) u2(t + tau); positive lags: energy from station1 to station2"
    )
    params = h5.create_group("params")
    for key, value in day.params.to_dict().items():
        params.attrs[key] = value
    if "data" not in h5:  # not written in place by write_correlated_day
        chunks = (1, 1, *day.data.shape[2:]) if day.data.size else None
        h5.create_dataset("data", data=day.data, chunks=chunks)
    dset = h5["data"]
    dset.attrs["units"] = data_units(day.params)
    dset.attrs["dims"] = "pair, component, substack, lag"
    h5.create_dataset("ngood", data=day.ngood)
    h5.create_dataset("lags_s", data=day.lags_s).attrs["units"] = "s"
    for name in ("window_start", "substack_start"):
        dset = h5.create_dataset(name, data=getattr(day, name))
        dset.attrs["units"] = "s since 1970-01-01T00:00:00Z"
    pairs = h5.create_group("pairs")
    for name in ("station1", "station2", "channel1", "channel2"):
        write_str_dataset(pairs, name, getattr(day, name))
    for name in ("coords1", "coords2"):
        pairs.create_dataset(name, data=getattr(day, name)).attrs["units"] = "deg, deg, m"
    pairs.create_dataset("distance_km", data=day.distance_km).attrs["units"] = "km"
    pairs.create_dataset("azimuth_deg", data=day.azimuth_deg).attrs["units"] = "deg"
    pairs.create_dataset("backazimuth_deg", data=day.backazimuth_deg).attrs["units"] = "deg"
    channels = h5.create_group("channels")
    ids = sorted(set(day.gap_s) | set(day.dropped) | set(day.nonfinite))
    write_str_dataset(channels, "id", np.array(ids, dtype=object))
    channels.create_dataset("gap_s", data=np.array([day.gap_s.get(i, 0.0) for i in ids]))
    channels["gap_s"].attrs["units"] = "s"
    channels.create_dataset(
        "nonfinite", data=np.array([day.nonfinite.get(i, 0) for i in ids], dtype=np.int64)
    )
    write_str_dataset(channels, "dropped", np.array([day.dropped.get(i, "") for i in ids], object))


def write_day_correlations(path: str | os.PathLike, day: DayCorrelations) -> None:
    """Write one day's correlations to one HDF5 file, atomically.

    Parameters
    ----------
    path : str or path-like
        Output file.
    day : DayCorrelations
        The day's correlations (may be empty).
    """
    write_atomic_h5(path, lambda h5: _write_day(h5, day))


def write_correlated_day(
    path: str | os.PathLike, correlate: Callable[[Callable], DayCorrelations]
) -> None:
    """Correlate a day straight into its HDF5 file, atomically, without holding it in memory.

    Parameters
    ----------
    path : str or path-like
        Output file.
    correlate : callable
        ``correlate(allocate)`` returns the day's correlations, written through ``allocate``
        (e.g. ``lambda allocate: correlate_streams(..., allocate=allocate)``); ``allocate``
        creates the file's contiguous ``data`` dataset, written past the page cache
        (:mod:`seismake.directio`).
    """

    def write(h5: h5py.File) -> None:
        with ExitStack() as written:

            def allocate(shape: tuple[int, ...]) -> DirectDataset:
                return written.enter_context(create_direct_dataset(h5, "data", shape))

            day = correlate(allocate)
        _write_day(h5, day)

    write_atomic_h5(path, write)


def read_str_dataset(dset: h5py.Dataset) -> np.ndarray:
    """A string dataset as a numpy str array of the same shape."""
    return np.array(dset.asstr()[()], dtype=str).reshape(dset.shape)


def read_params(cls: type[P], attrs: h5py.AttributeManager) -> P:
    """Rebuild a parameter dataclass (CorrelationParams, StackParams) from HDF5 attributes."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in attrs:
            value = attrs[f.name]
            value = value.decode() if isinstance(value, bytes) else value
            values[f.name] = type(f.default)(value)
    return cls.from_dict(values)


def read_pair_table(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Station codes of the pairs in a day file: (station1, station2), each (n_pair,) str."""
    with open_checked(path, FORMAT) as h5:
        return read_str_dataset(h5["pairs/station1"]), read_str_dataset(h5["pairs/station2"])


@contextmanager
def open_checked(path: str | os.PathLike, file_format: str) -> Iterator[h5py.File]:
    """Open an HDF5 file for reading, check its ``format`` attribute and name it in errors."""
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise CorrelationFileError(f"{path}: cannot open as HDF5 ({err})") from err
    with h5:
        if h5.attrs.get("format") != file_format:
            raise CorrelationFileError(f"{path}: not a {file_format} file")
        try:
            yield h5
        except KeyError as err:
            raise CorrelationFileError(f"{path}: incomplete {file_format} file ({err})") from err


@contextmanager
def day_data_reader(
    path: str | os.PathLike,
) -> Iterator[Callable[[slice, np.ndarray], None]]:
    """``read(pairs, out)`` copies the correlations of a run of pairs (a slice of the
    file's pair order) into ``out``, any (n, n_comp, n_sub, n_lag) float32 array or view;
    past the page cache when the file's data are contiguous (:mod:`seismake.directio`)."""
    with open_checked(path, FORMAT) as h5:
        dset = h5["data"]
        offset = contiguous_offset(dset)
        if offset is None:

            def read(pairs: slice, out: np.ndarray) -> None:
                out[...] = dset[pairs]

            yield read
            return
        with DirectDataset(h5.filename, offset, dset.shape, dset.dtype, "r") as direct:
            yield direct.read


def read_day_correlations(
    path: str | os.PathLike, select: Sequence[int] | None = None, with_data: bool = True
) -> DayCorrelations:
    """Read a day file written by :func:`write_day_correlations`.

    Parameters
    ----------
    path : str or path-like
        Day file.
    select : sequence of int, optional
        Pair indices to read (in the file's order); all pairs by default.
    with_data : bool
        Read the correlations too; without, ``data`` is None (read them with
        :func:`day_data_reader`).

    Returns
    -------
    DayCorrelations
    """
    with open_checked(path, FORMAT) as h5:
        n_pair = int(h5.attrs["n_pair"])
        index = np.arange(n_pair) if select is None else np.asarray(select, dtype=np.int64)
        order = np.argsort(index)
        sorted_index = index[order]
        undo = np.argsort(order)
        in_order = bool(np.all(order == np.arange(order.size)))

        def take(dset: h5py.Dataset) -> np.ndarray:
            if index.size == 0:
                return np.zeros((0, *dset.shape[1:]), dtype=dset.dtype)
            lo, hi = int(sorted_index[0]), int(sorted_index[-1]) + 1
            if hi - lo == sorted_index.size:  # a contiguous run: one slice, no point selection
                block = dset[lo:hi]
            else:
                block = dset[sorted_index]
            return block if in_order else block[undo]

        def take_str(dset: h5py.Dataset) -> np.ndarray:
            return (
                read_str_dataset(dset)[index] if index.size else np.zeros((0, *dset.shape[1:]), str)
            )

        pairs = h5["pairs"]
        channels = h5["channels"]
        ids = read_str_dataset(channels["id"])
        dropped = read_str_dataset(channels["dropped"])
        return DayCorrelations(
            day=str(h5.attrs["day"]),
            station1=take_str(pairs["station1"]),
            station2=take_str(pairs["station2"]),
            channel1=take_str(pairs["channel1"]),
            channel2=take_str(pairs["channel2"]),
            coords1=take(pairs["coords1"]),
            coords2=take(pairs["coords2"]),
            distance_km=take(pairs["distance_km"]),
            azimuth_deg=take(pairs["azimuth_deg"]),
            backazimuth_deg=take(pairs["backazimuth_deg"]),
            components=tuple(str(c) for c in h5.attrs["components"]),
            window_start=h5["window_start"][()],
            substack_start=h5["substack_start"][()],
            ngood=take(h5["ngood"]),
            lags_s=h5["lags_s"][()],
            data=take(h5["data"]) if with_data else None,
            params=read_params(CorrelationParams, h5["params"].attrs),
            gap_s=dict(zip(ids, channels["gap_s"][()].tolist(), strict=True)),
            nonfinite={
                i: n for i, n in zip(ids, channels["nonfinite"][()].tolist(), strict=True) if n
            },
            dropped={i: r for i, r in zip(ids, dropped, strict=True) if r},
            reason=str(h5.attrs["reason"]),
        )
