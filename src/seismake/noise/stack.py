"""Stacking of correlation rows (days, substacks) and rotation to RTZ.

Every stack function takes ``rows`` of shape (..., n_row, n_lag) and a boolean
``mask`` of shape (..., n_row) (False: no data) and returns (..., n_lag); the
leading axes (pairs, components) are processed at once.

Methods (NoisePy's set, each as defined in its paper):

* ``linear``: mean of the rows.
* ``pws`` (Schimmel & Paulssen 1997): the linear stack times
  ``|mean(exp(i phase(hilbert(row))))|^power``.
* ``robust`` (Pavlis & Vernon 2010; Yang et al. 2022): start at the median,
  weight each row by ``|d.s| / (|d| |d - (d.s) s|)`` with ``s`` the unit-norm
  stack, iterate until the relative L2 change is below ``epsilon``. NoisePy
  uses the stack without normalizing it, so its residual is not orthogonal.
* ``nroot``: ``sign(y) |y|^N`` with ``y = mean(sign(x) |x|^(1/N))``.
* ``selective``: mean of the rows whose correlation coefficient with the
  stack is at least a threshold, iterated until the selection is stable.
* ``auto_covariance`` (Nakata et al. 2015 adaptive covariance filter): the
  mean filtered by ``p = ((S1 - S2) / (S2 (N - 1)))^g`` with
  ``S1 = |sum X_i|^2`` and ``S2 = sum |X_i|^2`` (zero-padded spectra; NoisePy
  keeps only the first ``n_lag`` bins of its FFT).
"""

from __future__ import annotations

import logging
import os
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.signal

from seismake.noise.ccfstore import (
    CorrelationFileError,
    day_data_reader,
    read_day_correlations,
    read_pair_table,
)
from seismake.noise.correlate import COMPONENTS_3, DayCorrelations
from seismake.noise.params import CorrelationParams, StackParams

logger = logging.getLogger(__name__)

RTZ_COMPONENTS = ("ZR", "ZT", "ZZ", "RR", "RT", "RZ", "TR", "TT", "TZ")
MEMORY_BYTES = 512 * 2**20


def _count(mask: np.ndarray) -> np.ndarray:
    return mask.sum(axis=-1)[..., None]


def _mean(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    total = np.einsum("...rl,...r->...l", rows, mask.astype(rows.dtype))
    return total / np.maximum(_count(mask), 1)


def _masked_median(values: np.ndarray, mask: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.where(mask, values, np.nan), axis=axis)


def reject_outliers(rows: np.ndarray, mask: np.ndarray, factor: float = 20.0) -> np.ndarray:
    """Drop rows whose max ``|x|`` is zero or exceeds ``factor`` times the median row max.

    Parameters
    ----------
    rows : numpy.ndarray
        (..., n_row, n_lag).
    mask : numpy.ndarray
        (..., n_row) bool, rows with data.
    factor : float
        NoisePy uses 20.

    Returns
    -------
    numpy.ndarray
        (..., n_row) bool, rows kept.
    """
    peak = np.abs(rows).max(axis=-1)
    median = _masked_median(peak, mask, axis=-1)[..., None]
    return mask & (peak > 0) & (peak < factor * median)


def stack_linear(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the rows with data; (..., n_lag)."""
    return _mean(rows, mask)


def stack_pws(rows: np.ndarray, mask: np.ndarray, power: float = 2.0) -> np.ndarray:
    """Phase-weighted stack (Schimmel & Paulssen 1997); (..., n_lag)."""
    n_lag = rows.shape[-1]
    analytic = scipy.signal.hilbert(rows, N=scipy.fft.next_fast_len(n_lag), axis=-1)[..., :n_lag]
    amplitude = np.abs(analytic)
    with np.errstate(divide="ignore", invalid="ignore"):
        phasor = np.where(amplitude > 0, analytic / amplitude, 0)
    coherence = np.abs(_mean(phasor, mask)) ** power
    return coherence * _mean(rows, mask)


def stack_nroot(rows: np.ndarray, mask: np.ndarray, power: float = 2.0) -> np.ndarray:
    """N-th root stack ``sign(y)|y|^N``, ``y = mean(sign(x)|x|^(1/N))``; (..., n_lag)."""
    y = _mean(np.sign(rows) * np.abs(rows) ** (1.0 / power), mask)
    return np.sign(y) * np.abs(y) ** power


def stack_robust(
    rows: np.ndarray, mask: np.ndarray, epsilon: float = 1e-3, maxiter: int = 10
) -> np.ndarray:
    """Robust stack (Pavlis & Vernon 2010 weights, Yang et al. 2022); (..., n_lag).

    Parameters
    ----------
    rows : numpy.ndarray
        (..., n_row, n_lag).
    mask : numpy.ndarray
        (..., n_row) bool.
    epsilon : float
        Stop when ``|s_new - s| / |s_new| < epsilon`` (L2 norms).
    maxiter : int
        Most iterations.
    """
    rows = np.asarray(rows, dtype=np.float64)
    m = mask.astype(np.float64)
    stack = np.nan_to_num(_masked_median(rows, mask[..., None], axis=-2))
    row_norm = np.linalg.norm(rows, axis=-1)
    done = np.zeros(rows.shape[:-2], dtype=bool)
    for _ in range(maxiter):
        norm = np.linalg.norm(stack, axis=-1, keepdims=True)
        unit = np.divide(stack, norm, out=np.zeros_like(stack), where=norm > 0)
        dots = np.einsum("...rl,...l->...r", rows, unit)
        resid = np.linalg.norm(rows - dots[..., None] * unit[..., None, :], axis=-1)
        resid = np.maximum(resid, 1e-9 * np.maximum(row_norm, 1e-300))
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(row_norm > 0, np.abs(dots) / (row_norm * resid), 0) * m
        total = weight.sum(axis=-1, keepdims=True)
        new = np.einsum("...rl,...r->...l", rows, weight / np.where(total > 0, total, 1))
        new = np.where(total > 0, new, _mean(rows, mask))
        change = np.linalg.norm(new - stack, axis=-1)
        scale = np.linalg.norm(new, axis=-1)
        stack = np.where(done[..., None], stack, new)
        done |= change <= epsilon * scale
        if done.all():
            break
    return stack


def stack_selective(
    rows: np.ndarray, mask: np.ndarray, threshold: float = 0.0, maxiter: int = 10
) -> np.ndarray:
    """Mean of the rows correlating with the stack at >= ``threshold``; (..., n_lag)."""
    keep = mask.copy()
    stack = _mean(rows, keep)
    centred = rows - rows.mean(axis=-1, keepdims=True)
    centred_norm = np.linalg.norm(centred, axis=-1)
    for _ in range(maxiter):
        s = stack - stack.mean(axis=-1, keepdims=True)
        s_norm = np.linalg.norm(s, axis=-1)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            cc = np.einsum("...rl,...l->...r", centred, s) / (centred_norm * s_norm)
        new_keep = mask & (np.nan_to_num(cc, nan=-np.inf) >= threshold)
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
        stack = _mean(rows, keep)
    return stack


def stack_auto_covariance(rows: np.ndarray, mask: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Adaptive covariance filter stack (Nakata et al. 2015); (..., n_lag)."""
    n_lag = rows.shape[-1]
    n_fft = scipy.fft.next_fast_len(2 * n_lag - 1, real=True)
    m = mask.astype(np.float64)[..., None]
    spec = scipy.fft.rfft(rows, n_fft, axis=-1) * m
    total = spec.sum(axis=-2)
    s1 = np.abs(total) ** 2
    s2 = (np.abs(spec) ** 2).sum(axis=-2)
    n = m.sum(axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where((s2 > 0) & (n > 1), (s1 - s2) / (s2 * (n - 1)), np.where(n > 1, 0, 1))
    weight = np.sign(base) * np.abs(base) ** power
    mean_spec = total / np.maximum(n, 1)
    return scipy.fft.irfft(weight * mean_spec, n_fft, axis=-1)[..., :n_lag]


def stack_rows(
    rows: np.ndarray, mask: np.ndarray, params: StackParams
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Outlier rejection, then every stack method of ``params``.

    Parameters
    ----------
    rows : numpy.ndarray
        (..., n_row, n_lag).
    mask : numpy.ndarray
        (..., n_row) bool.
    params : StackParams
        Methods and their settings.

    Returns
    -------
    stacks : dict
        Method -> (..., n_lag) float32.
    nrows : numpy.ndarray
        (...,) int32 rows kept after outlier rejection.
    """
    keep = reject_outliers(rows, mask, params.outlier_factor)
    funcs = {
        "linear": lambda: stack_linear(rows, keep),
        "pws": lambda: stack_pws(rows, keep, params.pws_power),
        "robust": lambda: stack_robust(rows, keep, params.robust_epsilon, params.robust_maxiter),
        "nroot": lambda: stack_nroot(rows, keep, params.nroot_power),
        "selective": lambda: stack_selective(
            rows, keep, params.selective_threshold, params.robust_maxiter
        ),
        "auto_covariance": lambda: stack_auto_covariance(rows, keep, params.auto_covariance_power),
    }
    stacks = {}
    for method in params.methods:
        stacks[method] = np.where(keep.any(axis=-1)[..., None], funcs[method](), 0).astype(
            np.float32
        )
    return stacks, keep.sum(axis=-1).astype(np.int32)


def rotate_rtz(enz: np.ndarray, azimuth_deg: np.ndarray, backazimuth_deg: np.ndarray) -> np.ndarray:
    """Rotate the 9 ENZ combinations of station pairs to RTZ.

    R at station 1 points along the azimuth to station 2; R at station 2 points
    away from station 1 (backazimuth + 180 deg); T is R turned 90 deg clockwise.

    Parameters
    ----------
    enz : numpy.ndarray
        (n_pair, 9, n_lag) in the order EE EN EZ NE NN NZ ZE ZN ZZ (first letter station 1).
    azimuth_deg, backazimuth_deg : numpy.ndarray
        (n_pair,) azimuth from station 1 to 2 and from station 2 to 1, degrees.

    Returns
    -------
    numpy.ndarray
        (n_pair, 9, n_lag) in the order ZR ZT ZZ RR RT RZ TR TT TZ.
    """
    a = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    b = np.radians(np.asarray(backazimuth_deg, dtype=np.float64))
    zero, one = np.zeros_like(a), np.ones_like(a)
    rot1 = np.stack(
        [
            np.stack([np.sin(a), np.cos(a), zero], -1),
            np.stack([np.cos(a), -np.sin(a), zero], -1),
            np.stack([zero, zero, one], -1),
        ],
        -2,
    )
    rot2 = np.stack(
        [
            np.stack([-np.sin(b), -np.cos(b), zero], -1),
            np.stack([-np.cos(b), np.sin(b), zero], -1),
            np.stack([zero, zero, one], -1),
        ],
        -2,
    )
    tensor = enz.reshape(enz.shape[0], 3, 3, enz.shape[-1])
    rtz = np.einsum("pac,pbd,pcdl->pabl", rot1, rot2, tensor)
    index = {"R": 0, "T": 1, "Z": 2}
    out = np.stack([rtz[:, index[c1], index[c2]] for c1, c2 in RTZ_COMPONENTS], axis=1)
    return out.astype(enz.dtype)


@dataclass
class PairStacks:
    """Stacks of a chunk of station pairs over several days.

    Attributes
    ----------
    station1, station2 : numpy.ndarray
        (n_pair,) str ``NET.STA.LOC``.
    channel1, channel2 : numpy.ndarray
        (n_pair, n_comp) str channel codes.
    coords1, coords2 : numpy.ndarray
        (n_pair, 3) latitude deg, longitude deg, elevation m.
    distance_km, azimuth_deg, backazimuth_deg : numpy.ndarray
        (n_pair,) float64.
    components : tuple of str
        (n_comp,) ENZ combinations (or ``("ZZ",)``).
    lags_s : numpy.ndarray
        (n_lag,) float64.
    stacks : dict
        Method -> (n_pair, n_comp, n_lag) float32.
    rtz : dict
        Method -> (n_pair, 9, n_lag) float32 in :data:`RTZ_COMPONENTS` order
        (empty without rotation).
    nrows : numpy.ndarray
        (n_pair, n_comp) int32 rows stacked after outlier rejection.
    ndays : numpy.ndarray
        (n_pair,) int32 days in which the pair has data.
    days : list of str
        Days read.
    params : StackParams
    correlation_params : CorrelationParams or None
        Parameters of the day correlations (None if no file was read).
    """

    station1: np.ndarray
    station2: np.ndarray
    channel1: np.ndarray
    channel2: np.ndarray
    coords1: np.ndarray
    coords2: np.ndarray
    distance_km: np.ndarray
    azimuth_deg: np.ndarray
    backazimuth_deg: np.ndarray
    components: tuple[str, ...]
    lags_s: np.ndarray
    stacks: dict[str, np.ndarray]
    nrows: np.ndarray
    ndays: np.ndarray
    days: list[str]
    params: StackParams
    correlation_params: CorrelationParams | None = None
    rtz: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_pair(self) -> int:
        """Number of station pairs."""
        return int(self.station1.size)


def list_pairs(paths: Sequence[str | os.PathLike]) -> list[tuple[str, str]]:
    """Sorted union of the station pairs ``(station1, station2)`` of several day files."""
    pairs: set[tuple[str, str]] = set()
    for path in paths:
        s1, s2 = read_pair_table(path)
        pairs.update(zip(s1.tolist(), s2.tolist(), strict=True))
    return sorted(pairs)


def pairs_in_chunk(
    pairs: Sequence[tuple[str, str]], chunk: int, n_chunks: int
) -> list[tuple[str, str]]:
    """The pairs assigned to chunk ``chunk`` of ``n_chunks`` by a stable hash of their codes.

    The assignment of a pair does not depend on which other pairs exist, so a
    workflow can fix the number of stack jobs before the day files are written.

    Parameters
    ----------
    pairs : sequence of (str, str)
        ``(station1, station2)`` codes.
    chunk : int
        Chunk index in ``[0, n_chunks)``.
    n_chunks : int
        Number of chunks.

    Returns
    -------
    list of (str, str)
        The pairs of the chunk, in the input order.
    """
    if not 0 <= chunk < n_chunks:
        raise ValueError(f"chunk {chunk} is not in [0, {n_chunks})")
    return [p for p in pairs if zlib.crc32(f"{p[0]}|{p[1]}".encode()) % n_chunks == chunk]


def _runs(source: np.ndarray, target: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs ``(s0, s1, t0)`` where ``source[k:k + n]`` is ``s0..s1 - 1`` and
    ``target[k:k + n]`` is ``t0..t0 + n - 1``, covering both index arrays in order."""
    breaks = np.flatnonzero((np.diff(source) != 1) | (np.diff(target) != 1)) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [source.size]])
    return [
        (int(source[a]), int(source[a]) + int(b - a), int(target[a]))
        for a, b in zip(starts, stops, strict=True)
    ]


def stack_day_files(
    paths: Sequence[str | os.PathLike],
    params: StackParams,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> PairStacks:
    """Read day files, align pairs by station codes and stack a chunk of pairs.

    Parameters
    ----------
    paths : sequence of path
        Day files written by :func:`seismake.noise.ccfstore.write_day_correlations`.
        Days may lack stations or be empty.
    params : StackParams
        Stack methods and rotation.
    pairs : sequence of (str, str), optional
        ``(station1, station2)`` codes to stack; all pairs of the files by default.

    Returns
    -------
    PairStacks
        One stack per pair, component and method (zeros where a pair has no data).

    Raises
    ------
    CorrelationFileError
        When a file cannot be read or its components or lags differ from the first file's.

    Notes
    -----
    The pairs are stacked a block at a time, the block's rows of every day read
    into one buffer (past the page cache where the day files allow): at least one
    pair's ``n_comp * n_rows * n_lag * 4`` bytes, ``n_rows`` being the substacks per
    day times the number of days, and at most about ``MEMORY_BYTES`` with the
    stacking's temporaries.
    """
    pairs = list_pairs(paths) if pairs is None else [tuple(p) for p in pairs]
    position = {p: k for k, p in enumerate(pairs)}
    n_pair = len(pairs)
    per_day: list[tuple[str | os.PathLike, np.ndarray, np.ndarray, DayCorrelations]] = []
    reference = None
    for path in paths:
        s1, s2 = read_pair_table(path)
        file_index, chunk_index = [], []
        for k, key in enumerate(zip(s1.tolist(), s2.tolist(), strict=True)):
            if key in position:
                file_index.append(k)
                chunk_index.append(position[key])
        day = read_day_correlations(path, file_index, with_data=False)
        if reference is None:
            reference = day
        elif day.components != reference.components or not np.array_equal(
            day.lags_s, reference.lags_s
        ):
            raise CorrelationFileError(
                f"{path}: components {day.components} or lags differ from those of {paths[0]}"
            )
        if day.reason:
            logger.info("%s: day %s has no correlations (%s)", path, day.day, day.reason)
        index = np.asarray(chunk_index, dtype=np.int64)
        per_day.append((path, np.asarray(file_index, dtype=np.int64), index, day))
    if reference is None:
        raise ValueError("stack_day_files: no day file given")
    comps = reference.components
    n_comp, lags = len(comps), reference.lags_s
    meta = {
        "channel1": np.full((n_pair, n_comp), "", dtype=object),
        "channel2": np.full((n_pair, n_comp), "", dtype=object),
        "coords1": np.full((n_pair, 3), np.nan),
        "coords2": np.full((n_pair, 3), np.nan),
        "distance_km": np.full(n_pair, np.nan),
        "azimuth_deg": np.full(n_pair, np.nan),
        "backazimuth_deg": np.full(n_pair, np.nan),
    }
    seen = np.zeros(n_pair, dtype=bool)
    ndays = np.zeros(n_pair, dtype=np.int32)
    first_row = np.cumsum([0] + [day.ngood.shape[2] for *_, day in per_day])
    n_rows = int(first_row[-1])
    mask = np.zeros((n_pair, n_comp, n_rows), dtype=bool)
    for (_, _, index, day), offset in zip(per_day, first_row, strict=False):
        if index.size:
            mask[index, :, offset : offset + day.ngood.shape[2]] = day.ngood > 0
            ndays[index] += (day.ngood > 0).any(axis=(1, 2))
            new = ~seen[index]
            for name, values in meta.items():
                values[index[new]] = getattr(day, name)[new]
            seen[index] = True
    # a block of pairs at a time: its rows of every day in one buffer, reused
    stacks: dict[str, list[np.ndarray]] = {m: [] for m in params.methods}
    nrows = np.zeros((n_pair, n_comp), dtype=np.int32)
    per_pair = max(n_comp * max(n_rows, 1) * lags.size * 8 * 4, 1)
    size = max(1, min(n_pair, MEMORY_BYTES // per_pair))
    rows = np.zeros((size, n_comp, n_rows, lags.size), dtype=np.float32)
    for start in range(0, n_pair, size):
        block = slice(start, min(n_pair, start + size))
        buffer = rows[: block.stop - start]
        buffer[...] = 0
        for (path, file_index, index, day), offset in zip(per_day, first_row, strict=False):
            inside = (index >= block.start) & (index < block.stop)
            if not inside.any():
                continue
            sub = slice(offset, offset + day.ngood.shape[2])
            with day_data_reader(path) as read:
                for f0, f1, p0 in _runs(file_index[inside], index[inside] - start):
                    read(slice(f0, f1), buffer[p0 : p0 + f1 - f0, :, sub])
        result, nrows[block] = stack_rows(buffer, mask[block], params)
        for method, values in result.items():
            stacks[method].append(values)
    empty = np.zeros((0, n_comp, lags.size), dtype=np.float32)
    out = {m: np.concatenate(v) if v else empty for m, v in stacks.items()}
    rtz = {}
    if params.rotation:
        if comps != COMPONENTS_3:
            raise ValueError(f"rotation needs the 9 ENZ components, the day files have {comps}")
        rtz = {
            m: rotate_rtz(v, meta["azimuth_deg"], meta["backazimuth_deg"]) for m, v in out.items()
        }
    return PairStacks(
        station1=np.array([p[0] for p in pairs], dtype=str),
        station2=np.array([p[1] for p in pairs], dtype=str),
        channel1=meta["channel1"].astype(str),
        channel2=meta["channel2"].astype(str),
        coords1=meta["coords1"],
        coords2=meta["coords2"],
        distance_km=meta["distance_km"],
        azimuth_deg=meta["azimuth_deg"],
        backazimuth_deg=meta["backazimuth_deg"],
        components=comps,
        lags_s=lags,
        stacks=out,
        rtz=rtz,
        nrows=nrows,
        ndays=ndays,
        days=[day.day for *_, day in per_day],
        params=params,
        correlation_params=reference.params,
    )
