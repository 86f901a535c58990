"""Butterworth filters shared by the branches: design, zero-phase filtering, |B(f)|^2."""

from __future__ import annotations

import numpy as np
import scipy.signal


def butterworth_sos(fmin: float, fmax: float, fs: float, corners: int = 4) -> np.ndarray:
    """Second-order sections of a Butterworth bandpass ``fmin``-``fmax`` Hz at ``fs`` Hz.

    A highpass at ``fmin`` when ``fmax`` reaches the Nyquist frequency.
    """
    if fmax >= fs / 2:
        return scipy.signal.butter(corners, fmin, btype="highpass", fs=fs, output="sos")
    return scipy.signal.butter(corners, [fmin, fmax], btype="bandpass", fs=fs, output="sos")


def bandpass(x: np.ndarray, freqmin: float, freqmax: float, sampling_rate: float) -> np.ndarray:
    """Zero-phase 4-corner Butterworth bandpass (highpass if freqmax >= Nyquist).

    Parameters
    ----------
    x : numpy.ndarray
        (..., n) samples; filtered along the last axis.
    freqmin, freqmax : float
        Corner frequencies in Hz.
    sampling_rate : float
        Hz.

    Returns
    -------
    numpy.ndarray
        Filtered samples, same shape.
    """
    return scipy.signal.sosfiltfilt(butterworth_sos(freqmin, freqmax, sampling_rate), x, axis=-1)


def zero_phase_power(
    freqs: np.ndarray, fmin: float, fmax: float, fs: float, corners: int = 4
) -> np.ndarray:
    """|B(f)|^2 of :func:`butterworth_sos`: the response of the filter run forward and back.

    Parameters
    ----------
    freqs : numpy.ndarray
        (n_freq,) frequencies in Hz.
    fmin, fmax : float
        Corner frequencies in Hz.
    fs : float
        Sampling rate in Hz.
    corners : int
        Filter order per pass.

    Returns
    -------
    numpy.ndarray
        (n_freq,) float64 power response.
    """
    _, h = scipy.signal.sosfreqz(
        butterworth_sos(fmin, fmax, fs, corners), worN=np.asarray(freqs, dtype=float), fs=fs
    )
    return h.real**2 + h.imag**2
