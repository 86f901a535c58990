"""Local earthquakes recorded by the broadband stations.

Each event radiates a causal Brune pulse (:func:`.spectra.brune_velocity`) as a P and an
S wave along straight rays in a homogeneous half-space (elevations ignored). The
displacement spectral level at hypocentral distance ``R`` is

    Omega0 = M0 * Rad * 2 / (4 pi rho c^3 R)

with ``Rad`` = 0.52 (P) or 0.63 (S) (average radiation patterns), 2 the free-surface
factor and ``c`` the wave speed. The pulse is attenuated by ``exp(-w R / (2 c Q))`` and a
site term ``exp(-pi kappa f)``, and high-cut by a causal two-pole low-pass
``1 / (1 + i f / fmax)^2`` (Hanks' fmax), which keeps the 20 Hz channels free of aliasing
ringing ahead of the onsets. P moves along the ray (vertical ``cos i``, radial ``sin i``,
``i`` the incidence angle from vertical, up and away from the source). S is split equally
in energy between SV (radial ``cos i``, vertical ``-sin i``) and SH (transverse, ObsPy's
``T``). Arrivals are at ``R / vp`` and ``R / vs`` after origin time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from obspy import UTCDateTime

from seismake.geodesy import geodesic_inverse, local_to_lonlat

from .layout import Site
from .spec import DemoSpec, RandomStream, rng
from .spectra import brune_corner_hz, brune_velocity, seismic_moment_nm

RADIATION_P = 0.52
RADIATION_S = 0.63
FREE_SURFACE = 2.0
EPICENTER_RADIUS_FRACTION = 0.6


@dataclass(frozen=True)
class Earthquake:
    """One catalogued event.

    Attributes
    ----------
    event_id
        ``{NET}{YYYY}{DDD}_{n:02d}``.
    time
        Origin time (UTC).
    latitude, longitude, depth_km
        Hypocentre (degrees, degrees, km below the surface).
    magnitude
        Moment magnitude.
    """

    event_id: str
    time: UTCDateTime
    latitude: float
    longitude: float
    depth_km: float
    magnitude: float


def day_earthquakes(spec: DemoSpec, stations: Sequence[Site], day: int) -> list[Earthquake]:
    """The events of one day.

    The written part of the day is cut into ``spec.events_per_day`` equal slots; each slot
    holds one event, with epicentre uniform within 0.6 network radii of the centre, and an
    origin time such that its S wave reaches every station at least 5 % of a slot before
    the slot ends.

    Parameters
    ----------
    spec
        Demo parameters.
    stations
        Broadband stations (to keep all arrivals inside the slot).
    day
        Day index.

    Returns
    -------
    list of Earthquake

    Raises
    ------
    ValueError
        If a slot is too short to hold an event and its S arrivals.
    """
    gen = rng(spec, RandomStream.EARTHQUAKES, day)
    t_day = spec.start_time + 86400 * day
    slot = spec.day_length_s / max(spec.events_per_day, 1)
    sta_lat = np.array([s.latitude for s in stations])
    sta_lon = np.array([s.longitude for s in stations])
    events = []
    for j in range(spec.events_per_day):
        radius = EPICENTER_RADIUS_FRACTION * spec.network_radius_km * np.sqrt(gen.uniform())
        theta = gen.uniform(0.0, 2.0 * np.pi)
        lat, lon = local_to_lonlat(radius * np.sin(theta), radius * np.cos(theta),
                                   spec.center_lat, spec.center_lon)
        lat, lon = round(float(lat), 5), round(float(lon), 5)
        depth = round(float(gen.uniform(*spec.depth_range_km)), 2)
        mag = round(float(gen.uniform(*spec.magnitude_range)), 2)
        dist, _, _ = geodesic_inverse(lat, lon, sta_lat, sta_lon)
        t_s = np.hypot(dist.max(), depth * 1e3) / (spec.vs_km_s * 1e3)
        earliest, latest = j * slot + 0.05 * slot, (j + 1) * slot - 0.05 * slot - t_s
        if latest <= earliest:
            raise ValueError(
                f"day_length_s={spec.day_length_s} is too short for {spec.events_per_day} "
                f"events per day (S waves need {t_s:.0f} s)"
            )
        t0 = round(float(gen.uniform(earliest, latest)), 3)
        events.append(Earthquake(f"{spec.network}{t_day.year}{t_day.julday:03d}_{j + 1:02d}",
                                 t_day + t0, lat, lon, depth, mag))
    return events


def earthquake_spectra(spec: DemoSpec, site: Site, events: Sequence[Earthquake],
                       day_start: UTCDateTime, f_hz: np.ndarray) -> np.ndarray:
    """Ground-velocity spectra of the events at one station (Z, N, E).

    Parameters
    ----------
    spec
        Demo parameters (velocities, Q, density, stress drop, kappa, fmax).
    site
        The station.
    events
        Events of the day.
    day_start
        Time of the first sample (time zero of the spectra).
    f_hz
        Frequencies ``k / L``, Hz, shape (F,).

    Returns
    -------
    numpy.ndarray
        Continuous-time spectra, m/s * s, complex, shape (3, F).
    """
    out = np.zeros((3, f_hz.size), dtype=complex)
    w = 2.0 * np.pi * f_hz
    site_term = np.exp(-np.pi * spec.kappa_s * f_hz)
    pole = 1.0 + 1j * f_hz / spec.earthquake_fmax_hz
    high_cut = 1.0 / (pole * pole)
    for ev in events:
        epi, _, baz = geodesic_inverse(ev.latitude, ev.longitude, site.latitude, site.longitude)
        hyp = float(np.hypot(epi, ev.depth_km * 1e3))
        sin_i, cos_i = float(epi) / hyp, ev.depth_km * 1e3 / hyp
        moment = seismic_moment_nm(ev.magnitude)
        corner = brune_corner_hz(moment, spec.vs_km_s * 1e3, spec.stress_drop_mpa * 1e6)
        pulse = brune_velocity(f_hz, corner) * site_term * high_cut
        waves = []
        for c_km_s, q, rad in ((spec.vp_km_s, spec.qp, RADIATION_P),
                               (spec.vs_km_s, spec.qs, RADIATION_S)):
            c = c_km_s * 1e3
            level = moment * rad * FREE_SURFACE / (4.0 * np.pi * spec.density_kg_m3 * c**3 * hyp)
            delay = (ev.time - day_start) + hyp / c
            waves.append(level * pulse * np.exp(w * complex(-hyp / (2.0 * c * q), -delay)))
        p_wave, s_wave = waves
        vertical = cos_i * p_wave - sin_i * s_wave / np.sqrt(2.0)
        radial = sin_i * p_wave + cos_i * s_wave / np.sqrt(2.0)
        transverse = s_wave / np.sqrt(2.0)
        b = np.radians(float(baz))
        out[0] += vertical
        out[1] += -radial * np.cos(b) + transverse * np.sin(b)
        out[2] += -radial * np.sin(b) - transverse * np.cos(b)
    return out
