"""Transient plane waves crossing the array, and the array's own noise.

The array records nothing else: no ambient field, no earthquakes. A plane wave is a burst
of Gaussian noise under a Tukey envelope (20 % taper) from ``start`` to ``end``, band-limited
to ``[fmin, fmax]`` (cos^2 ramps over the outer fifths of the band) and scaled so that its
RMS ground velocity between ``start`` and ``end`` equals ``amplitude`` at the array centre.
Element ``e`` records it delayed by ``s . r_e`` (exactly, in the frequency domain), with
``s = -(sin baz, cos baz) / v`` the propagation slowness (east, north) and ``r_e`` the
element offset from the array centre (``AR01``), azimuthal equidistant on WGS84
(:func:`.geodesy.azimuthal_offsets_m`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from obspy import UTCDateTime
from scipy.signal.windows import tukey

from seismake.geodesy import azimuthal_offsets_m

from .layout import Site
from .spec import DemoSpec, RandomStream, rng
from .spectra import band_noise_spectrum, band_window


@dataclass(frozen=True)
class PlaneWave:
    """One transient plane wave.

    Attributes
    ----------
    start, end
        Envelope start and end at the array centre (UTC).
    backazimuth_deg
        Direction towards the source, degrees clockwise from north.
    velocity_km_s
        Apparent (trace) velocity, km/s.
    fmin_hz, fmax_hz
        Band, Hz.
    amplitude
        RMS ground velocity between ``start`` and ``end``, m/s.
    """

    start: UTCDateTime
    end: UTCDateTime
    backazimuth_deg: float
    velocity_km_s: float
    fmin_hz: float
    fmax_hz: float
    amplitude: float


def day_plane_waves(spec: DemoSpec, day: int) -> list[PlaneWave]:
    """The plane waves of one day.

    The written part of the day is cut into ``spec.plane_waves_per_day`` equal slots; each
    holds one wave lasting at most half a slot, at least 10 % of a slot from the slot's
    edges. Backazimuth is uniform in [0, 360), velocity uniform in its range, ``fmin`` in
    the lowest and ``fmax`` in the highest third of ``spec.plane_wave_band_hz``, amplitude
    ``snr * spec.array_noise_rms_m_s`` (4 significant digits) with ``snr`` uniform in its
    range.

    Parameters
    ----------
    spec
        Demo parameters.
    day
        Day index.

    Returns
    -------
    list of PlaneWave
    """
    gen = rng(spec, RandomStream.PLANE_WAVES, day)
    t_day = spec.start_time + 86400 * day
    slot = spec.day_length_s / max(spec.plane_waves_per_day, 1)
    lo, hi = spec.plane_wave_band_hz
    third = (hi - lo) / 3.0
    waves = []
    for j in range(spec.plane_waves_per_day):
        snr = float(gen.uniform(*spec.plane_wave_snr_range))
        duration = round(min(float(gen.uniform(*spec.plane_wave_duration_range_s)), 0.5 * slot),
                         2)
        start = round(float(gen.uniform(j * slot + 0.1 * slot, (j + 1) * slot - 0.1 * slot
                                        - duration)), 3)
        waves.append(PlaneWave(
            start=t_day + start,
            end=t_day + start + duration,
            backazimuth_deg=round(float(gen.uniform(0.0, 360.0)), 2),
            velocity_km_s=round(float(gen.uniform(*spec.plane_wave_velocity_range_km_s)), 3),
            fmin_hz=round(float(gen.uniform(lo, lo + third)), 3),
            fmax_hz=round(float(gen.uniform(hi - third, hi)), 3),
            amplitude=float(f"{snr * spec.array_noise_rms_m_s:.4g}"),
        ))
    return waves


def plane_wave_delays_s(waves: Sequence[PlaneWave], elements: Sequence[Site]) -> np.ndarray:
    """Arrival delay of each wave at each element relative to the array centre.

    Parameters
    ----------
    waves
        W plane waves.
    elements
        E array elements, the first at the centre.

    Returns
    -------
    numpy.ndarray
        ``s . r_e``, seconds, shape (W, E).
    """
    lat = np.array([e.latitude for e in elements])
    lon = np.array([e.longitude for e in elements])
    east, north = azimuthal_offsets_m(lat, lon, lat[0], lon[0])
    baz = np.radians([w.backazimuth_deg for w in waves])
    slow = 1.0 / (np.array([w.velocity_km_s for w in waves]) * 1e3)
    return -slow[:, None] * (np.sin(baz)[:, None] * east[None] + np.cos(baz)[:, None] * north[None])


def plane_wave_spectra(spec: DemoSpec, waves: Sequence[PlaneWave], day: int,
                       day_start: UTCDateTime) -> np.ndarray:
    """Ground-velocity spectra of the waves at the array centre.

    Parameters
    ----------
    spec
        Demo parameters (array sampling rate, day length).
    waves
        W plane waves of the day.
    day
        Day index (seeds the waveforms).
    day_start
        Time of the first sample.

    Returns
    -------
    numpy.ndarray
        Continuous-time spectra on ``f_k = k / L``, ``k = 0..N/2`` (``N`` samples per day at
        the array rate), m/s * s, complex, shape (W, N // 2 + 1).
    """
    fs = spec.array_sampling_rate_hz
    n = round(spec.day_length_s * fs)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    out = np.zeros((len(waves), f.size), dtype=complex)
    for j, wave in enumerate(waves):
        i0 = round((wave.start - day_start) * fs)
        i1 = round((wave.end - day_start) * fs)
        burst = np.zeros(n)
        gen = rng(spec, RandomStream.PLANE_WAVE_SIGNAL, day, j)
        burst[i0:i1] = gen.standard_normal(i1 - i0) * tukey(i1 - i0, 0.2)
        edge = 0.2 * (wave.fmax_hz - wave.fmin_hz)
        spectrum = np.fft.rfft(burst) * band_window(
            f, (wave.fmin_hz, wave.fmin_hz + edge, wave.fmax_hz - edge, wave.fmax_hz))
        rms = np.sqrt(np.mean(np.fft.irfft(spectrum, n)[i0:i1] ** 2))
        out[j] = spectrum * (wave.amplitude / rms) / fs
    return out


def array_noise_spectrum(spec: DemoSpec, day: int, element: int, n_bins: int) -> np.ndarray:
    """Spectrum of one element's independent noise for one day.

    Flat PSD inside ``spec.array_noise_window_hz`` with RMS ``spec.array_noise_rms_m_s``
    (:func:`.spectra.band_noise_spectrum`).

    Parameters
    ----------
    spec
        Demo parameters.
    day, element
        Day and element indices (seed the noise).
    n_bins
        Number of bins ``f_k = k / L``, ``k = 0..n_bins - 1``.

    Returns
    -------
    numpy.ndarray
        Continuous-time spectrum, m/s * s, complex, shape (n_bins,).
    """
    gen = rng(spec, RandomStream.ARRAY_NOISE, day, element)
    k_lo, values = band_noise_spectrum(spec.array_noise_window_hz, spec.array_noise_rms_m_s,
                                       spec.day_length_s, gen)
    out = np.zeros(n_bins, dtype=complex)
    out[k_lo:k_lo + values.size] = values
    return out
