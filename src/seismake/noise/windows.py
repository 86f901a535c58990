"""Correlation windows of a day: cutting, rejection, per-window demean/detrend/taper.

A day of ``n_samples`` is cut into windows of ``n_len`` samples every
``n_step`` samples; seismake keeps every window that fits,
``(n_samples - n_len) // n_step + 1`` of them (NoisePy's
``floor((86400 - cc_len) / step)`` drops the last one).
"""

from __future__ import annotations

import numpy as np

from seismake.noise.preprocess import taper_window


def n_windows(n_samples: int, n_len: int, n_step: int) -> int:
    """Number of windows of ``n_len`` samples every ``n_step`` samples that fit in ``n_samples``."""
    if n_len < 1 or n_step < 1:
        raise ValueError(f"window length {n_len} and step {n_step} must be >= 1 sample")
    return max(0, (n_samples - n_len) // n_step + 1)


def cut_windows(data: np.ndarray, n_len: int, n_step: int) -> np.ndarray:
    """Cut a day matrix into overlapping windows without copying.

    Parameters
    ----------
    data : numpy.ndarray
        (n_chan, n_samples) samples.
    n_len : int
        Window length in samples.
    n_step : int
        Window step in samples.

    Returns
    -------
    numpy.ndarray
        (n_chan, n_win, n_len) read-only strided view of ``data``; window ``w``
        starts at sample ``w * n_step``.
    """
    n_win = n_windows(data.shape[-1], n_len, n_step)
    if n_win == 0:
        return np.zeros((data.shape[0], 0, n_len), dtype=data.dtype)
    view = np.lib.stride_tricks.sliding_window_view(data, n_len, axis=-1)
    return view[:, : (n_win - 1) * n_step + 1 : n_step]


def window_mask(
    data: np.ndarray,
    n_len: int,
    n_step: int,
    max_over_std: float,
    valid: np.ndarray | None = None,
    max_window_gap_fraction: float = 1.0,
) -> np.ndarray:
    """Good windows per channel: ``max|x| / std(day) < max_over_std``, not dead, few gaps.

    Parameters
    ----------
    data : numpy.ndarray
        (n_chan, n_samples) samples of the day.
    n_len, n_step : int
        Window length and step in samples.
    max_over_std : float
        Windows whose largest absolute sample reaches this many standard
        deviations of the channel's day (over its valid samples) are rejected.
    valid : numpy.ndarray, optional
        (n_chan, n_samples) bool, False in gaps.
    max_window_gap_fraction : float
        Windows with a larger fraction of invalid samples are rejected.

    Returns
    -------
    numpy.ndarray
        (n_chan, n_win) bool, True for windows to correlate.
    """
    n_chan = data.shape[0]
    n_win = n_windows(data.shape[-1], n_len, n_step)
    if n_win == 0:
        return np.zeros((n_chan, 0), dtype=bool)
    day_std = np.zeros(n_chan)
    for c in range(n_chan):
        x = data[c] if valid is None or valid[c].all() else data[c, valid[c]]
        if x.size:
            centred = x - np.float32(x.mean(dtype=np.float64))
            day_std[c] = np.sqrt(np.mean(np.square(centred), dtype=np.float64))
    if valid is None or valid.all():
        gap_fraction = np.zeros((n_chan, n_win))
    else:
        missing = np.zeros((n_chan, valid.shape[1] + 1), dtype=np.int64)
        np.cumsum(~valid, axis=1, out=missing[:, 1:])
        starts = np.arange(n_win) * n_step
        gap_fraction = (missing[:, starts + n_len] - missing[:, starts]) / n_len
    peak = _window_peaks(data, n_len, n_step, n_win)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = peak / day_std[:, None]
    good = (ratio < max_over_std) & (peak > 0) & (day_std[:, None] > 0)
    return good & (gap_fraction <= max_window_gap_fraction)


def _window_peaks(data: np.ndarray, n_len: int, n_step: int, n_win: int) -> np.ndarray:
    """Max |x| per window; (n_chan, n_win). Uses block maxima when n_step divides n_len."""
    if n_len % n_step:
        return np.abs(cut_windows(data, n_len, n_step)).max(axis=-1)
    per_window = n_len // n_step
    n_blocks = n_win - 1 + per_window
    blocks = np.abs(data[:, : n_blocks * n_step].reshape(data.shape[0], n_blocks, n_step))
    block_peak = blocks.max(axis=-1)
    view = np.lib.stride_tricks.sliding_window_view(block_peak, per_window, axis=-1)
    return view.max(axis=-1)


def prepare_windows(
    windows: np.ndarray, sampling_rate: float, out: np.ndarray | None = None
) -> np.ndarray:
    """Demean, linearly detrend and taper each window (NoisePy's per-window steps).

    NoisePy caps its Hann taper at 20 samples; seismake caps it at 20 s.

    Parameters
    ----------
    windows : numpy.ndarray
        (..., n_len) samples.
    sampling_rate : float
        Hz, sets the taper length (``min(5 %, 20 s)`` per side).
    out : numpy.ndarray, optional
        (..., n_len) float32 array (or view) to write into.

    Returns
    -------
    numpy.ndarray
        (..., n_len) float32, ``out`` or a new array.
    """
    n_len = windows.shape[-1]
    if out is None:
        x = np.array(windows, dtype=np.float32)
    else:
        x = out
        x[...] = windows
    t = (np.arange(n_len) - (n_len - 1) / 2.0).astype(np.float32)
    mean = x.mean(axis=-1, keepdims=True)
    slope = (x @ t)[..., None] / np.float32(np.dot(t, t))
    x -= mean + slope * t
    taper = taper_window(n_len, sampling_rate).astype(np.float32)
    n_side = int(np.argmax(taper >= 1.0))
    if n_side:
        x[..., :n_side] *= taper[:n_side]
        x[..., n_len - n_side :] *= taper[n_len - n_side :]
    return x
