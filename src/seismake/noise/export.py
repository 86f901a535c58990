"""Stacks out of the noise branch: SAC files with the noisi headers, upload to S3.

SAC layout of one chunk directory (one file per pair and component combination)::

    {directory}/{method}/NET.STA.LOC.CHA--NET.STA.LOC.CHA.sac       ENZ combinations
    {directory}/{method}_rtz/NET.STA.LOC.CHA--NET.STA.LOC.CHA.sac   RTZ (with rotation),
                                                                    channel codes ending R, T, Z

Headers follow the noisi paper's Appendix A (:mod:`seismake.noisi.sacio`):
``user0`` is the number of correlation windows stacked (the good windows of
the days in the stack) and the samples are the stack times ``user0``, so that
reading a file as observed data (divided by ``user0``) gives the stack itself.
``user1`` is ``cc_len`` in s, ``user2`` the window overlap as a fraction of
``cc_len``, ``kt0`` and ``kt1`` the first and last day with data (``YYYYjjj``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import s3fs
from obspy import UTCDateTime

from seismake.fileio import atomic_directory
from seismake.noise.ccfstore import FORMAT as CCF_FORMAT
from seismake.noise.ccfstore import open_checked, read_str_dataset
from seismake.noise.stack import RTZ_COMPONENTS, PairStacks
from seismake.noisi.sacio import CorrelationTrace, correlation_filename, write_correlation_sac

logger = logging.getLogger(__name__)


def window_counts(paths: Sequence[str | os.PathLike], stacks: PairStacks) -> np.ndarray:
    """Good correlation windows per pair and component over the day files.

    Parameters
    ----------
    paths : sequence of path
        Day files (:mod:`seismake.noise.ccfstore`) the stacks were made from.
    stacks : PairStacks
        The stacks; their pairs and components select what is counted.

    Returns
    -------
    numpy.ndarray
        (n_pair, n_comp) int64, windows good on both channels summed over days
        and substacks.
    """
    position = {
        key: k
        for k, key in enumerate(
            zip(stacks.station1.tolist(), stacks.station2.tolist(), strict=True)
        )
    }
    counts = np.zeros((stacks.n_pair, len(stacks.components)), dtype=np.int64)
    for path in paths:
        with open_checked(path, CCF_FORMAT) as h5:
            s1 = read_str_dataset(h5["pairs/station1"])
            s2 = read_str_dataset(h5["pairs/station2"])
            keys = zip(s1.tolist(), s2.tolist(), strict=True)
            hits = [(i, position[key]) for i, key in enumerate(keys) if key in position]
            if not hits:
                continue
            rows, dest = (np.array(v) for v in zip(*hits, strict=True))
            ngood = h5["ngood"][()]
            comps = [str(c) for c in h5.attrs["components"]]
            order = [comps.index(c) for c in stacks.components]
            counts[dest] += ngood[rows][:, order].sum(axis=-1)
    return counts


def _julian(day: str) -> str:
    return UTCDateTime(day).strftime("%Y%j")


def stack_traces(
    stacks: PairStacks, method: str, windows: np.ndarray, rtz: bool = False
) -> list[CorrelationTrace]:
    """Appendix A records of one stack method, for every pair and component with data.

    Parameters
    ----------
    stacks : PairStacks
        Stacks of a chunk of pairs.
    method : str
        A method in ``stacks.stacks``.
    windows : numpy.ndarray
        (n_pair, n_comp) windows stacked, from :func:`window_counts`.
    rtz : bool
        The rotated components (channel codes ending R, T, Z) instead of ENZ;
        ``user0`` is then the smallest count of the pair's horizontal and
        vertical ENZ combinations.

    Returns
    -------
    list of CorrelationTrace
        Data are the stack times the window count.
    """
    values = stacks.rtz[method] if rtz else stacks.stacks[method]
    comps = RTZ_COMPONENTS if rtz else stacks.components
    params = stacks.correlation_params
    fs = fs_of(stacks)
    traces = []
    for p in range(stacks.n_pair):
        codes = _channel_codes(stacks, p, comps, rtz)
        n_windows = windows[p]
        for c in range(len(comps)):
            count = int(n_windows.min()) if rtz else int(n_windows[c])
            if count == 0 or codes[c] is None:
                continue
            cha1, cha2 = codes[c]
            trace = CorrelationTrace(
                data=values[p, c].astype(np.float64) * count,
                delta_s=1.0 / fs,
                begin_s=float(stacks.lags_s[0]),
                station1=f"{stacks.station1[p]}.{cha1}",
                station2=f"{stacks.station2[p]}.{cha2}",
                lat1=float(stacks.coords1[p, 0]),
                lon1=float(stacks.coords1[p, 1]),
                lat2=float(stacks.coords2[p, 0]),
                lon2=float(stacks.coords2[p, 1]),
                n_stacked=float(count),
                window_length_s=None if params is None else float(params.cc_len),
                window_overlap=None
                if params is None
                else float((params.cc_len - params.step) / params.cc_len),
                first_day=_julian(stacks.days[0]) if stacks.days else None,
                last_day=_julian(stacks.days[-1]) if stacks.days else None,
                dist_m=float(stacks.distance_km[p] * 1000.0),
                az_deg=float(stacks.azimuth_deg[p]),
                baz_deg=float(stacks.backazimuth_deg[p]),
            )
            traces.append(trace)
    return traces


def fs_of(stacks: PairStacks) -> float:
    """Sampling rate of the stacks' lag axis in Hz."""
    return float(1.0 / np.median(np.diff(stacks.lags_s)))


def _channel_codes(
    stacks: PairStacks, p: int, comps: Sequence[str], rtz: bool
) -> list[tuple[str, str] | None]:
    """Channel codes (station 1, station 2) per component, None where a channel is missing."""
    if not rtz:
        return [
            (str(a), str(b)) if a and b else None
            for a, b in zip(stacks.channel1[p], stacks.channel2[p], strict=True)
        ]
    first = [str(c) for c in stacks.channel1[p] if c]
    second = [str(c) for c in stacks.channel2[p] if c]
    if len(first) < len(stacks.channel1[p]) or len(second) < len(stacks.channel2[p]):
        return [None] * len(comps)
    return [(first[0][:2] + c1, second[0][:2] + c2) for c1, c2 in comps]


def write_sac_directory(
    directory: str | os.PathLike, stacks: PairStacks, windows: np.ndarray
) -> dict[str, int]:
    """Write every stack of a chunk as SAC files into a new directory, atomically.

    Parameters
    ----------
    directory : str or path-like
        Output directory (replaced as a whole).
    stacks : PairStacks
        Stacks of a chunk of pairs.
    windows : numpy.ndarray
        (n_pair, n_comp) windows stacked, from :func:`window_counts`.

    Returns
    -------
    dict
        Sub-directory (``method`` or ``method_rtz``) -> number of files written.
    """
    written: dict[str, int] = {}
    with atomic_directory(directory) as tmp:
        groups = [(m, False) for m in stacks.stacks] + [(m, True) for m in stacks.rtz]
        for method, rtz in groups:
            name = f"{method}_rtz" if rtz else method
            sub = Path(tmp) / name
            sub.mkdir()
            traces = stack_traces(stacks, method, windows, rtz)
            for trace in traces:
                path = sub / correlation_filename(trace.station1, trace.station2)
                write_correlation_sac(path, trace)
            written[name] = len(traces)
    logger.info("%s: SAC files per method %s", directory, written)
    return written


def files_under(paths: Sequence[str | os.PathLike], base: str | os.PathLike) -> dict[str, Path]:
    """Every file of ``paths`` (files or directories, recursively), keyed by path below ``base``.

    Hidden files (names starting with ``.``, e.g. Snakemake's ``.snakemake_timestamp``
    in directory outputs) are left out.

    Parameters
    ----------
    paths : sequence of path
        Files and directories, all below ``base``.
    base : str or path-like
        Directory the keys are relative to (POSIX separators).

    Returns
    -------
    dict
        Relative key -> file, sorted by key.
    """
    found: dict[str, Path] = {}
    for path in map(Path, paths):
        for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if item.is_file() and not item.name.startswith("."):
                found[item.relative_to(base).as_posix()] = item
    return dict(sorted(found.items()))


def upload_files(
    files: Mapping[str, str | os.PathLike], url: str, endpoint_url: str | None = None
) -> list[dict]:
    """Copy local files to an S3 prefix with credentials from the environment.

    Parameters
    ----------
    files : mapping
        Key relative to ``url`` -> local file.
    url : str
        ``s3://bucket[/prefix]``.
    endpoint_url : str, optional
        S3-compatible endpoint; None for AWS.

    Returns
    -------
    list of dict
        One record per object: ``key`` (full ``s3://`` URL), ``size`` in bytes, ``md5``.

    Raises
    ------
    ValueError
        When ``url`` is not an ``s3://`` URL.
    OSError
        When an object cannot be written (message names the URL).
    """
    if not url.startswith("s3://"):
        raise ValueError(f"upload url {url!r} is not an s3:// URL")
    fs = s3fs.S3FileSystem(anon=False, endpoint_url=endpoint_url, skip_instance_cache=True)
    root = url[len("s3://") :].rstrip("/")
    records = []
    for key, local in sorted(files.items()):
        target = f"{root}/{key}"
        data = Path(local).read_bytes()
        try:
            fs.pipe_file(target, data)
        except Exception as err:  # botocore/s3fs raise many types; name the object
            raise OSError(f"s3://{target}: upload failed ({type(err).__name__}: {err})") from err
        records.append(
            {
                "key": f"s3://{target}",
                "size": len(data),
                "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            }
        )
    logger.info("uploaded %d file(s) to %s", len(records), url)
    return records
