"""Synthetic array records: band-limited plane waves with exact fractional delays.

Used by the array tests and the ObsPy benchmark, where the truth (backazimuth, trace
velocity, time span, frequency band) must be known exactly. Delays are applied in the
frequency domain, so they are exact for any fraction of a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from obspy import Stream, Trace, UTCDateTime
from obspy.core.util import AttribDict

from seismake.array.geometry import WGS84_A_M, WGS84_F, slowness_from_baz


@dataclass(frozen=True)
class PlaneWave:
    """One band-limited plane-wave arrival.

    Attributes
    ----------
    backazimuth_deg
        Direction towards the source, degrees clockwise from north.
    velocity_km_s
        Trace velocity, km/s.
    start_s, duration_s
        Time span at the array centre, seconds after the stream start.
    fmin, fmax
        Frequency band of the signal, Hz.
    amplitude
        RMS amplitude of the signal inside its span.
    """

    backazimuth_deg: float
    velocity_km_s: float
    start_s: float
    duration_s: float
    fmin: float
    fmax: float
    amplitude: float = 1.0


def ring_array(n_elements: int = 9, radius_m: float = 1000.0) -> tuple[np.ndarray, np.ndarray]:
    """A centre element and ``n_elements - 1`` elements on a circle.

    Returns
    -------
    east_m, north_m
        Positions in metres, shape (n_elements,); aperture ``2 * radius_m``.
    """
    if n_elements < 3:
        raise ValueError(f"a ring array needs at least 3 elements, got {n_elements}")
    az = 2.0 * np.pi * np.arange(n_elements - 1) / (n_elements - 1)
    east = np.concatenate([[0.0], radius_m * np.sin(az)])
    north = np.concatenate([[0.0], radius_m * np.cos(az)])
    return east, north


def _band_limited(rng: np.random.Generator, n: int, fs: float, fmin: float, fmax: float):
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    spec[(f < fmin) | (f > fmax)] = 0.0
    return spec


def plane_wave_stream(
    east_m: np.ndarray,
    north_m: np.ndarray,
    waves: list[PlaneWave],
    fs: float,
    duration_s: float,
    noise_rms: float = 0.0,
    seed: int = 0,
    starttime: UTCDateTime | None = None,
    origin: tuple[float, float] = (-117.0, 35.0),
    network: str = "SY",
    channel: str = "HHZ",
) -> Stream:
    """Array stream with plane waves plus independent white noise on each element.

    Parameters
    ----------
    east_m, north_m
        Element positions relative to the array centre, metres, shape (N,).
    waves
        Plane-wave arrivals; each has a cosine-tapered (10 %) envelope over its span.
    fs
        Sampling rate, Hz.
    duration_s
        Record length, seconds.
    noise_rms
        Standard deviation of the independent Gaussian noise of each element.
    seed
        Seed of the random generator (signals and noise).
    starttime
        Start of every trace (default 2020-01-01).
    origin
        (longitude, latitude) of the array centre, degrees; element coordinates are set
        in ``stats.coordinates`` (elevation 0 m).
    network, channel
        SEED codes; stations are ``A01``, ``A02``, ...

    Returns
    -------
    One float64 trace per element, all starting at ``starttime``.
    """
    east = np.asarray(east_m, dtype=float)
    north = np.asarray(north_m, dtype=float)
    n = round(duration_s * fs)
    rng = np.random.default_rng(seed)
    starttime = UTCDateTime(2020, 1, 1) if starttime is None else UTCDateTime(starttime)
    data = noise_rms * rng.standard_normal((east.size, n))
    max_delay = 0.0
    for w in waves:
        max_delay = max(max_delay, np.hypot(east, north).max() / 1000.0 / w.velocity_km_s)
    pad = int(np.ceil(max_delay * fs)) + 16
    npad = n + 2 * pad
    f = np.fft.rfftfreq(npad, 1.0 / fs)
    t = (np.arange(npad) - pad) / fs
    for w in waves:
        spec = _band_limited(rng, npad, fs, w.fmin, w.fmax)
        src = np.fft.irfft(spec, npad)
        inside = (t >= w.start_s) & (t <= w.start_s + w.duration_s)
        env = np.zeros(npad)
        m = int(inside.sum())
        if m:
            ramp = max(1, int(0.05 * m))
            env[inside] = 1.0
            edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
            idx = np.flatnonzero(inside)
            env[idx[:ramp]] = edge
            env[idx[-ramp:]] = edge[::-1]
            src *= env
            src *= w.amplitude / np.sqrt(np.mean(src[inside] ** 2))
        sx, sy = slowness_from_baz(w.backazimuth_deg, w.velocity_km_s)
        tau = (east * sx + north * sy) / 1000.0
        shifted = np.fft.irfft(
            np.fft.rfft(src)[None, :] * np.exp(-2j * np.pi * f[None, :] * tau[:, None]), npad
        )
        data += shifted[:, pad : pad + n]
    lon0, lat0 = origin
    e2 = WGS84_F * (2.0 - WGS84_F)
    phi0 = np.radians(lat0)
    w_ = np.sqrt(1.0 - e2 * np.sin(phi0) ** 2)
    lat = lat0 + np.degrees(north * w_**3 / (WGS84_A_M * (1.0 - e2)))
    lon = lon0 + np.degrees(east * w_ / (WGS84_A_M * np.cos(np.radians(0.5 * (lat + lat0)))))
    st = Stream()
    for i in range(east.size):
        tr = Trace(
            data=data[i].copy(),
            header={
                "network": network,
                "station": f"A{i + 1:02d}",
                "channel": channel,
                "sampling_rate": fs,
                "starttime": starttime,
            },
        )
        tr.stats.coordinates = AttribDict(latitude=lat[i], longitude=lon[i], elevation=0.0)
        st.append(tr)
    return st
