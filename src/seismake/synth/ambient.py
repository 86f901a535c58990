"""The ambient-noise field at the broadband stations, built in the frequency domain.

Each day is an independent stationary realization, periodic over the written day length
``L``. On the bins ``f_k = k / L`` the continuous-time spectrum of the vertical ground
velocity at receiver ``x`` is

    U_Z(f_k) = A sqrt(L / 2) sum_s sqrt(w_s a_s S(f_k)) G(f_k, r_s(x)) exp(i phi_sk)

with ``w_s`` the source weight, ``a_s`` its cell area, ``S`` the source spectrum shape,
``G`` the far-field surface-wave Green's function (:func:`.spectra.greens_velocity`) and
``phi_sk`` independent uniform random phases per source, bin and day. Its one-sided power
spectral density is therefore ``P_Z(f) = A^2 sum_s w_s a_s S(f) |G(f, r_s)|^2``, with ``A``
(:func:`amplitude_scale`) chosen so that the network-average vertical RMS equals
``spec.noise_rms_m_s``. Horizontal motion is Rayleigh-wave radial motion, retrograde at
the surface: ``U_R = i * hv * U_Z`` per source, projected on north and east with the
propagation azimuth (``N = -U_R cos(baz)``, ``E = -U_R sin(baz)``, ``baz`` the azimuth from
the station to the source).

The sum over sources is done in blocks of :data:`PHASE_CHUNK` bins (the random phases of
block ``c`` come from ``rng(seed, NOISE_PHASES, day, c)``), so memory stays bounded. Bins
where ``S(f)`` is below :data:`SPECTRUM_FLOOR` times its maximum (amplitudes below 1e-6 of
the peak, far below one count) are left at zero.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from seismake.geodesy import geodesic_inverse

from .layout import NoiseSources, Site
from .spec import DemoSpec, RandomStream, rng
from .spectra import (
    band_bins,
    greens_amplitude_factors,
    greens_velocity_power,
    source_spectrum,
)

log = logging.getLogger(__name__)

PHASE_CHUNK = 512
SPECTRUM_FLOOR = 1e-12
_PSD_STEP_HZ = 1e-3


def _source_geometry(stations: Sequence[Site], sources: NoiseSources) -> tuple[np.ndarray, ...]:
    lat = np.array([s.latitude for s in stations])[:, None]
    lon = np.array([s.longitude for s in stations])[:, None]
    dist, _, baz = geodesic_inverse(sources.latitude[None], sources.longitude[None], lat, lon)
    return dist, baz


def vertical_psd(spec: DemoSpec, stations: Sequence[Site], sources: NoiseSources,
                 f_hz: np.ndarray, amplitude_scale: float = 1.0) -> np.ndarray:
    """Model PSD of the vertical ground velocity at each station.

    Parameters
    ----------
    spec
        Demo parameters (medium and source spectrum).
    stations
        Receivers, M of them.
    sources
        Noise sources.
    f_hz
        Frequencies, Hz, shape (F,).
    amplitude_scale
        ``A``.

    Returns
    -------
    numpy.ndarray
        One-sided PSD ``P_Z``, (m/s)^2/Hz, shape (M, F).
    """
    dist, _ = _source_geometry(stations, sources)
    shape = source_spectrum(f_hz, spec.source_mean_hz, spec.source_std_hz, spec.source_window_hz)
    g2 = greens_velocity_power(f_hz[None, None, :], dist[:, :, None],
                               spec.phase_velocity_km_s * 1e3, spec.q, spec.density_kg_m3)
    power = np.einsum("s,msf->mf", sources.weight * sources.area_m2, g2)
    return amplitude_scale**2 * power * shape[None, :]


def amplitude_scale(spec: DemoSpec, stations: Sequence[Site], sources: NoiseSources) -> float:
    """Scale ``A`` that makes the network-average vertical RMS equal ``spec.noise_rms_m_s``.

    ``A = noise_rms / sqrt(mean_m int P_Z(f; m, A=1) df)``, the integral taken on a
    1 mHz grid over the source band (independent of the day length).

    Parameters
    ----------
    spec
        Demo parameters.
    stations
        The broadband stations.
    sources
        Noise sources.

    Returns
    -------
    float
        ``A`` (units such that ``A^2 w a S |G|^2`` is a velocity PSD).
    """
    f0, f3 = spec.source_window_hz[0], spec.source_window_hz[3]
    f = np.arange(f0, f3 + _PSD_STEP_HZ, _PSD_STEP_HZ)
    power = np.trapezoid(vertical_psd(spec, stations, sources, f), f, axis=1)
    return float(spec.noise_rms_m_s / np.sqrt(power.mean()))


def ambient_spectra(spec: DemoSpec, stations: Sequence[Site], sources: NoiseSources,
                    scale: float, day: int) -> tuple[int, np.ndarray]:
    """Spectra of the ambient field at the stations for one day (Z, N, E ground velocity).

    Parameters
    ----------
    spec
        Demo parameters.
    stations
        The broadband stations, M of them.
    sources
        Noise sources, S of them.
    scale
        Amplitude scale ``A`` (:func:`amplitude_scale`).
    day
        Day index (seeds the random phases).

    Returns
    -------
    k_lo : int
        Bin index of the first column.
    spectra : numpy.ndarray
        Continuous-time spectra ``U(f_k)`` for ``k = k_lo..k_hi`` (:func:`band_bins`),
        m/s * s, complex, shape (M, 3, k_hi - k_lo + 1); zero outside these bins.
    """
    length = spec.day_length_s
    v = spec.phase_velocity_km_s * 1e3
    k_lo, k_hi = band_bins(spec.source_window_hz, length)
    dist, baz = _source_geometry(stations, sources)
    amp = np.sqrt(sources.weight * sources.area_m2)[None] / np.sqrt(dist)
    radial = 1j * spec.hv_ratio * amp
    baz_rad = np.radians(baz)
    coef = np.stack([amp.astype(complex), -radial * np.cos(baz_rad), -radial * np.sin(baz_rad)],
                    axis=1)
    gamma = 2.0 * np.pi * dist * (1j / v + 1.0 / (2.0 * v * spec.q)) / length
    steps = np.exp(-gamma[:, :, None] * np.arange(PHASE_CHUNK)[None, None, :])
    out = np.zeros((len(stations), 3, k_hi - k_lo + 1), dtype=complex)
    n_src = len(sources)
    band = source_spectrum(np.arange(k_lo, k_hi + 1) / length, spec.source_mean_hz,
                           spec.source_std_hz, spec.source_window_hz)
    active = np.flatnonzero((band > 0) & (band >= SPECTRUM_FLOOR * band.max(initial=0.0)))
    if active.size == 0:
        return k_lo, out
    k_first, k_last = k_lo + active[0], k_lo + active[-1]
    for chunk in range(k_first // PHASE_CHUNK, k_last // PHASE_CHUNK + 1):
        k0 = chunk * PHASE_CHUNK
        phases = rng(spec, RandomStream.NOISE_PHASES, day, chunk).random((n_src, PHASE_CHUNK))
        field = steps * np.exp(2j * np.pi * phases)[None]
        summed = np.matmul(coef * np.exp(-gamma * k0)[:, None, :], field)
        f = (k0 + np.arange(PHASE_CHUNK)) / length
        shape = source_spectrum(f, spec.source_mean_hz, spec.source_std_hz,
                                spec.source_window_hz)
        summed *= scale * np.sqrt(0.5 * length * shape) * greens_amplitude_factors(
            f, v, spec.density_kg_m3)
        lo, hi = max(k0, k_first), min(k0 + PHASE_CHUNK - 1, k_last)
        out[:, :, lo - k_lo:hi - k_lo + 1] = summed[:, :, lo - k0:hi - k0 + 1]
    log.debug("ambient field day %d: %d stations x %d sources x %d bins", day, len(stations),
              n_src, k_hi - k_lo + 1)
    return k_lo, out

