"""Temporal and spectral normalization of correlation windows.

Running means are NoisePy's ``moving_ave``: ``N`` samples (or frequency bins) long,
centred (for even ``N``, ``N / 2`` before and ``N / 2 - 1`` after), the ends extended
with the first and last values; ``smooth_N`` and ``smoothspect_N`` are such lengths.
seismake picks the spectral normalization by ``freq_norm`` (NoisePy picks
``phase_only`` by ``smoothspect_N <= 1`` instead) and applies ``rma`` and ``phase_only`` inside
the band with cos^2 ramps outside it, zero beyond.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

RAMP_BINS = 100


def running_mean(x: np.ndarray, length: int, axis: int = -1) -> np.ndarray:
    """Centred running mean over ``length`` samples along ``axis`` (NoisePy's ``moving_ave``).

    Parameters
    ----------
    x : numpy.ndarray
        Real array.
    length : int
        Window length N in samples; 1 or less returns a copy of ``x``.
    axis : int
        Axis to smooth.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``x``.
    """
    return uniform_filter1d(x, size=max(1, int(length)), axis=axis, mode="nearest")


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[~(den > 0)] = 0
    return out


def time_normalize(windows: np.ndarray, time_norm: str, smooth_N: int) -> np.ndarray:
    """Temporal normalization of windows.

    Parameters
    ----------
    windows : numpy.ndarray
        (..., n_len) real samples.
    time_norm : str
        ``"no"`` (unchanged), ``"one_bit"`` (``sign(x)``) or ``"rma"``
        (``x`` divided by the running mean of ``|x|`` over ``smooth_N``
        samples; 0 where that mean is 0).
    smooth_N : int
        Length of the running mean in samples.

    Returns
    -------
    numpy.ndarray
        (..., n_len) normalized samples (same dtype).
    """
    if time_norm == "no":
        return windows
    if time_norm == "one_bit":
        return np.sign(windows)
    if time_norm == "rma":
        return _safe_divide(windows, running_mean(np.abs(windows), smooth_N))
    raise ValueError(f"time_norm={time_norm!r} is not one of no, one_bit, rma")


def band_window(
    n_fft: int, sampling_rate: float, freqmin: float, freqmax: float, ramp_bins: int = RAMP_BINS
) -> tuple[np.ndarray, int, int]:
    """Spectral band window: 1 in [freqmin, freqmax], cos^2 ramps of ``ramp_bins`` bins, 0 beyond.

    Parameters
    ----------
    n_fft : int
        FFT length in samples.
    sampling_rate : float
        Hz.
    freqmin, freqmax : float
        Pass band in Hz.
    ramp_bins : int
        Width of each ramp in frequency bins (NoisePy uses 100).

    Returns
    -------
    window : numpy.ndarray
        (n_fft // 2 + 1,) float32 weights of the rfft bins.
    k0, k1 : int
        The window is zero outside the bins ``k0:k1``.
    """
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / sampling_rate)
    inside = np.flatnonzero((freqs >= freqmin) & (freqs <= freqmax))
    if inside.size == 0:
        raise ValueError(
            f"no frequency bin of an {n_fft}-point FFT at {sampling_rate} Hz lies in "
            f"[{freqmin}, {freqmax}] Hz"
        )
    left, right = int(inside[0]), int(inside[-1])
    low = max(left - ramp_bins, 1)
    high = min(right + ramp_bins, freqs.size - 1)
    window = np.zeros(freqs.size, dtype=np.float32)
    window[low:left] = np.cos(np.linspace(np.pi / 2, np.pi, left - low)) ** 2
    window[left : right + 1] = 1.0
    window[right + 1 : high + 1] = np.cos(np.linspace(0, np.pi / 2, high - right + 1)[1:]) ** 2
    nonzero = np.flatnonzero(window > 0)
    return window, int(nonzero[0]), int(nonzero[-1]) + 1


def normalize_spectra(
    spectra: np.ndarray,
    freq_norm: str,
    smoothspect_N: int,
    window: np.ndarray | None = None,
) -> np.ndarray:
    """Spectral normalization of batched spectra.

    Parameters
    ----------
    spectra : numpy.ndarray
        (..., n_bins) complex spectra (any contiguous set of rfft bins).
    freq_norm : str
        ``"no"`` (unchanged), ``"rma"`` (divide by the running mean of ``|X|``
        over ``smoothspect_N`` bins) or ``"phase_only"`` (``X / |X|``).
    smoothspect_N : int
        Length in bins of the ``rma`` running mean.
    window : numpy.ndarray, optional
        (n_bins,) band window applied after ``rma`` or ``phase_only``.

    Returns
    -------
    numpy.ndarray
        (..., n_bins) normalized spectra (same dtype); 0 where ``|X|`` is 0.
    """
    if freq_norm == "no":
        return spectra
    amplitude = np.abs(spectra)
    if freq_norm == "rma":
        out = _safe_divide(spectra, running_mean(amplitude, smoothspect_N))
    elif freq_norm == "phase_only":
        out = _safe_divide(spectra, amplitude)
    else:
        raise ValueError(f"freq_norm={freq_norm!r} is not one of no, rma, phase_only")
    if window is not None:
        out *= window
    return out
