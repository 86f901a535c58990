"""Spectral building blocks: band windows, the noise-source spectrum, the surface-wave
Green's function and the Brune earthquake source.

Fourier convention (NumPy's): ``X(f) = int x(t) exp(-2 pi i f t) dt``, so a delay ``tau``
multiplies a spectrum by ``exp(-i w tau)`` with ``w = 2 pi f``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def band_window(f_hz: np.ndarray, corners_hz: Sequence[float]) -> np.ndarray:
    """Band window with cos^2 ramps.

    Parameters
    ----------
    f_hz
        Frequencies, Hz, any shape.
    corners_hz
        ``(f0, f1, f2, f3)``: zero below ``f0`` and above ``f3``, one in ``[f1, f2]``.

    Returns
    -------
    numpy.ndarray
        Window values in [0, 1], same shape as ``f_hz``.
    """
    f0, f1, f2, f3 = corners_hz
    f = np.asarray(f_hz, dtype=float)
    up = np.clip((f - f0) / max(f1 - f0, 1e-300), 0.0, 1.0)
    down = np.clip((f3 - f) / max(f3 - f2, 1e-300), 0.0, 1.0)
    w = np.sin(0.5 * np.pi * up) ** 2 * np.sin(0.5 * np.pi * down) ** 2
    return np.where((f > f0) & (f < f3), w, 0.0)


def band_bins(corners_hz: Sequence[float], day_length_s: float) -> tuple[int, int]:
    """First and last bin ``k`` (``f_k = k / L``) strictly inside ``(f0, f3)``.

    Parameters
    ----------
    corners_hz
        Band-window corners ``(f0, f1, f2, f3)``, Hz.
    day_length_s
        Length ``L`` of the day, s.

    Returns
    -------
    k_lo, k_hi : int
        Inclusive bin range; every other bin of the band-limited spectra is zero.
    """
    k_lo = int(np.floor(corners_hz[0] * day_length_s + 1e-9)) + 1
    k_hi = int(np.ceil(corners_hz[3] * day_length_s - 1e-9)) - 1
    return k_lo, k_hi


def source_spectrum(f_hz: np.ndarray, mean_hz: float, std_hz: float,
                    corners_hz: Sequence[float]) -> np.ndarray:
    """Shape of the noise-source power spectrum (dimensionless, peak about 1).

    ``S(f) = exp(-(f - mean)^2 / (2 std^2)) * W(f)`` with ``W`` the band window.

    Parameters
    ----------
    f_hz
        Frequencies, Hz, any shape.
    mean_hz, std_hz
        Centre and width of the Gaussian, Hz.
    corners_hz
        Band-window corners, Hz.

    Returns
    -------
    numpy.ndarray
        Same shape as ``f_hz``.
    """
    f = np.asarray(f_hz, dtype=float)
    return np.exp(-0.5 * ((f - mean_hz) / std_hz) ** 2) * band_window(f, corners_hz)


def greens_velocity(f_hz: np.ndarray, dist_m: np.ndarray, v_m_s: float, q: float,
                    rho_kg_m3: float) -> np.ndarray:
    """Far-field surface-wave Green's function of a homogeneous medium, velocity.

    ``G(w, r) = w / (4 rho v^2) sqrt(2 v / (pi w r)) exp(-i w r / v + i pi / 4)
    exp(-w r / (2 v Q))``, ``G(0) = 0`` (the analytic Green's function of noisi).

    Parameters
    ----------
    f_hz
        Frequencies, Hz, shape broadcastable with ``dist_m``.
    dist_m
        Source-receiver distances, m.
    v_m_s, q, rho_kg_m3
        Phase velocity (m/s), quality factor, density (kg/m^3).

    Returns
    -------
    numpy.ndarray
        Complex, broadcast shape of the inputs.
    """
    f, r = np.broadcast_arrays(np.asarray(f_hz, dtype=float), np.asarray(dist_m, dtype=float))
    w = 2.0 * np.pi * f
    positive = w > 0
    w_safe = np.where(positive, w, 1.0)
    amp = w_safe / (4.0 * rho_kg_m3 * v_m_s**2) * np.sqrt(2.0 * v_m_s / (np.pi * w_safe * r))
    g = amp * np.exp(-1j * w * r / v_m_s + 0.25j * np.pi - w * r / (2.0 * v_m_s * q))
    return np.where(positive, g, 0.0)


def greens_velocity_power(f_hz: np.ndarray, dist_m: np.ndarray, v_m_s: float, q: float,
                          rho_kg_m3: float) -> np.ndarray:
    """``|G(w, r)|^2`` of :func:`greens_velocity`, computed in real arithmetic.

    ``(w / (4 rho v^2))^2 * 2 v / (pi w r) * exp(-w r / (v Q))``, zero at f = 0.

    Parameters
    ----------
    f_hz
        Frequencies, Hz, shape broadcastable with ``dist_m``.
    dist_m
        Source-receiver distances, m.
    v_m_s, q, rho_kg_m3
        Phase velocity (m/s), quality factor, density (kg/m^3).

    Returns
    -------
    numpy.ndarray
        Broadcast shape of the inputs, (m/s per unit force spectrum)^2.
    """
    w = 2.0 * np.pi * np.asarray(f_hz, dtype=float)
    r = np.asarray(dist_m, dtype=float)
    return w * (2.0 * v_m_s / np.pi) / (4.0 * rho_kg_m3 * v_m_s**2) ** 2 / r * np.exp(
        -w * r / (v_m_s * q))

def greens_amplitude_factors(f_hz: np.ndarray, v_m_s: float, rho_kg_m3: float) -> np.ndarray:
    """Distance-independent part of :func:`greens_velocity`.

    ``w / (4 rho v^2) sqrt(2 v / (pi w)) exp(i pi / 4)``, so that
    ``G(w, r) = factor(w) r^-1/2 exp(-w r (i / v + 1 / (2 v Q)))``.

    Parameters
    ----------
    f_hz
        Frequencies, Hz, shape (F,).
    v_m_s, rho_kg_m3
        Phase velocity (m/s) and density (kg/m^3).

    Returns
    -------
    numpy.ndarray
        Complex, shape (F,); zero at f = 0.
    """
    w = 2.0 * np.pi * np.asarray(f_hz, dtype=float)
    w_safe = np.where(w > 0, w, 1.0)
    fac = w_safe / (4.0 * rho_kg_m3 * v_m_s**2) * np.sqrt(2.0 * v_m_s / (np.pi * w_safe))
    return np.where(w > 0, fac * np.exp(0.25j * np.pi), 0.0)


def seismic_moment_nm(magnitude: np.ndarray | float) -> np.ndarray:
    """Seismic moment from moment magnitude, ``M0 = 10^(1.5 Mw + 9.1)`` N m."""
    return 10.0 ** (1.5 * np.asarray(magnitude, dtype=float) + 9.1)


def brune_corner_hz(moment_nm: np.ndarray | float, vs_m_s: float,
                    stress_drop_pa: float) -> np.ndarray:
    """Brune (1970) corner frequency ``fc = 0.4906 vs (stress_drop / M0)^(1/3)``, Hz."""
    return 0.4906 * vs_m_s * (stress_drop_pa / np.asarray(moment_nm, dtype=float)) ** (1.0 / 3.0)


def brune_velocity(f_hz: np.ndarray, corner_hz: float) -> np.ndarray:
    """Spectrum of the ground velocity of a causal Brune (omega-squared) pulse.

    Displacement ``u(t) = wc^2 t exp(-wc t)`` for ``t >= 0`` (unit area, spectrum
    ``1 / (1 + i w / wc)^2``); velocity is ``i w`` times that. The velocity jumps at
    ``t = 0``, so the onset is sharp.

    Parameters
    ----------
    f_hz
        Frequencies, Hz, any shape.
    corner_hz
        Corner frequency, Hz.

    Returns
    -------
    numpy.ndarray
        Complex, same shape as ``f_hz`` (units: 1/s per unit displacement level).
    """
    f = np.asarray(f_hz, dtype=float)
    denominator = 1.0 + 1j * f / corner_hz
    return 2j * np.pi * f / (denominator * denominator)


def gaussian_noise_spectrum(psd: np.ndarray, day_length_s: float,
                            gen: np.random.Generator) -> np.ndarray:
    """Spectrum of stationary Gaussian noise with a given one-sided PSD.

    Parameters
    ----------
    psd
        One-sided PSD on the bins ``f_k = k / L`` wanted, (m/s)^2/Hz, shape (F,).
    day_length_s
        ``L``, s.
    gen
        Random generator (2F normal numbers are drawn).

    Returns
    -------
    numpy.ndarray
        Continuous-time spectrum, complex Gaussian with ``E|X|^2 = L psd / 2``, shape (F,).
    """
    z = gen.standard_normal((2, psd.size))
    return np.sqrt(0.25 * day_length_s * psd) * (z[0] + 1j * z[1])


def flat_psd(f_hz: np.ndarray, corners_hz: Sequence[float], rms: float) -> np.ndarray:
    """PSD flat inside a band window, scaled to a total RMS.

    Parameters
    ----------
    f_hz
        Frequencies, Hz, shape (F,).
    corners_hz
        Band-window corners, Hz.
    rms
        RMS of the process (the integral of the PSD is ``rms^2``).

    Returns
    -------
    numpy.ndarray
        One-sided PSD ``rms^2 W(f) / int W df``, shape (F,).
    """
    f0, f1, f2, f3 = corners_hz
    return rms**2 / (f2 - f1 + 0.5 * (f1 - f0) + 0.5 * (f3 - f2)) * band_window(f_hz, corners_hz)


def band_noise_spectrum(corners_hz: Sequence[float], rms: float, day_length_s: float,
                        gen: np.random.Generator) -> tuple[int, np.ndarray]:
    """Spectrum of Gaussian noise with a flat PSD inside a band window (:func:`flat_psd`).

    Random numbers are drawn for the bins inside the window only, so the noise does not
    depend on the sampling rate of the channel.

    Parameters
    ----------
    corners_hz
        Band-window corners, Hz.
    rms
        RMS of the noise.
    day_length_s
        ``L``, s.
    gen
        Random generator.

    Returns
    -------
    k_lo : int
        Bin of the first value (:func:`band_bins`).
    spectrum : numpy.ndarray
        Continuous-time spectrum on bins ``k_lo..k_hi``, complex, shape (k_hi - k_lo + 1,).
    """
    k_lo, k_hi = band_bins(corners_hz, day_length_s)
    psd = flat_psd(np.arange(k_lo, k_hi + 1) / day_length_s, corners_hz, rms)
    return k_lo, gaussian_noise_spectrum(psd, day_length_s, gen)
