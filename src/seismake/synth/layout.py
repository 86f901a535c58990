"""Where things are: broadband stations, array elements and the noise-source grid.

All positions depend on the spec (and its seed) only, never on the days. Coordinates are
rounded to 1e-6 degrees and elevations to 0.1 m before anything is computed from them, so
the StationXML holds exactly the coordinates the physics used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from seismake.geodesy import cell_area_m2, geodesic_inverse, local_to_lonlat, radii_of_curvature

from .spec import DemoSpec, RandomStream, rng

log = logging.getLogger(__name__)

_COORD_DECIMALS = 6


@dataclass(frozen=True)
class Site:
    """One recording site (a broadband station or an array element).

    Attributes
    ----------
    network, station, location
        SEED codes (location is empty in the demo).
    channels
        Channel codes, vertical first (``("BHZ", "BHN", "BHE")`` or ``("BHZ",)``).
    latitude, longitude, elevation_m
        Degrees, degrees, metres.
    sampling_rate_hz
        Sampling rate of every channel.
    role
        ``"network"`` or ``"array"``.
    """

    network: str
    station: str
    location: str
    channels: tuple[str, ...]
    latitude: float
    longitude: float
    elevation_m: float
    sampling_rate_hz: float
    role: str

    @property
    def code(self) -> str:
        """``NET.STA``."""
        return f"{self.network}.{self.station}"


@dataclass(frozen=True)
class NoiseSources:
    """Point noise sources: positions, relative PSD weights and the cell area each stands for.

    Attributes
    ----------
    latitude, longitude
        Degrees, shape (S,).
    weight
        Relative weight of the source power spectrum, shape (S,).
    area_m2
        Area of the grid cell the point represents, m^2, shape (S,).
    """

    latitude: np.ndarray
    longitude: np.ndarray
    weight: np.ndarray
    area_m2: np.ndarray

    def __len__(self) -> int:
        return int(self.latitude.size)


def _round_coords(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.round(lat, _COORD_DECIMALS), np.round(lon, _COORD_DECIMALS)


def network_sites(spec: DemoSpec) -> list[Site]:
    """The broadband stations ``S01``... at seeded random positions.

    Positions are drawn uniformly in a disc of ``spec.network_radius_km`` about the centre
    (local projection), rejecting any closer than ``spec.min_separation_km`` (geodesic)
    to a station already placed.

    Parameters
    ----------
    spec
        Demo parameters.

    Returns
    -------
    list of Site
        ``spec.n_stations`` sites, role ``"network"``.

    Raises
    ------
    ValueError
        If the stations do not fit in the disc with the required separation.
    """
    gen = rng(spec, RandomStream.NETWORK_LAYOUT)
    lats: list[float] = []
    lons: list[float] = []
    for _ in range(10000):
        if len(lats) == spec.n_stations:
            break
        radius = spec.network_radius_km * np.sqrt(gen.uniform())
        theta = gen.uniform(0.0, 2.0 * np.pi)
        lat, lon = _round_coords(
            *local_to_lonlat(radius * np.sin(theta), radius * np.cos(theta), spec.center_lat,
                             spec.center_lon)
        )
        if lats:
            dist, _, _ = geodesic_inverse(lat, lon, np.array(lats), np.array(lons))
            if dist.min() < spec.min_separation_km * 1e3:
                continue
        lats.append(float(lat))
        lons.append(float(lon))
    else:
        raise ValueError(
            f"cannot place {spec.n_stations} stations {spec.min_separation_km} km apart "
            f"within {spec.network_radius_km} km"
        )
    elev = np.round(gen.uniform(*spec.elevation_range_m, size=spec.n_stations), 1)
    sites = []
    for code, lat, lon, z in zip(spec.station_codes, lats, lons, elev, strict=True):
        if code == spec.hh_station:
            channels, fs = ("HHZ", "HHN", "HHE"), spec.hh_sampling_rate_hz
        else:
            channels, fs = ("BHZ", "BHN", "BHE"), spec.sampling_rate_hz
        sites.append(Site(spec.network, code, "", channels, lat, lon, float(z), fs, "network"))
    return sites


def array_sites(spec: DemoSpec) -> list[Site]:
    """The array elements ``AR01``... (``BHZ`` only).

    ``AR01`` stands at the array centre, drawn uniformly within ``spec.array_offset_km`` of
    the network centre; the others are spread evenly over two rings of radius ``0.2`` and
    ``0.5`` times the aperture (inner ring a third of them), each ring turned by a random
    angle and each element jittered by up to 5 % of the aperture.

    Parameters
    ----------
    spec
        Demo parameters.

    Returns
    -------
    list of Site
        ``spec.n_array`` sites, role ``"array"``.
    """
    gen = rng(spec, RandomStream.ARRAY_LAYOUT)
    radius = spec.array_offset_km * np.sqrt(gen.uniform())
    theta = gen.uniform(0.0, 2.0 * np.pi)
    lat0, lon0 = _round_coords(
        *local_to_lonlat(radius * np.sin(theta), radius * np.cos(theta), spec.center_lat,
                         spec.center_lon)
    )
    n_ring = spec.n_array - 1
    n_inner = n_ring // 3
    east = np.zeros(spec.n_array)
    north = np.zeros(spec.n_array)
    for first, count, frac in ((1, n_inner, 0.2), (1 + n_inner, n_ring - n_inner, 0.5)):
        if count == 0:
            continue
        angle = gen.uniform(0.0, 2.0 * np.pi) + 2.0 * np.pi * np.arange(count) / count
        radius = frac * spec.array_aperture_km
        jitter = gen.uniform(-0.05, 0.05, size=(2, count)) * spec.array_aperture_km
        east[first:first + count] = radius * np.sin(angle) + jitter[0]
        north[first:first + count] = radius * np.cos(angle) + jitter[1]
    lat, lon = _round_coords(*local_to_lonlat(east, north, lat0, lon0))
    elev = np.round(gen.uniform(*spec.elevation_range_m) + gen.uniform(-20, 20, spec.n_array), 1)
    return [
        Site(spec.network, code, "", ("BHZ",), float(la), float(lo), float(z),
             spec.array_sampling_rate_hz, "array")
        for code, la, lo, z in zip(spec.array_codes, lat, lon, elev, strict=True)
    ]


def noise_sources(spec: DemoSpec, stations: list[Site]) -> NoiseSources:
    """The ambient-noise point sources and their weights.

    A square grid of ``spec.source_grid_step_km`` over ``+-spec.source_half_width_km``
    about the centre (local projection, so constant steps in latitude and longitude), minus
    the points closer than ``spec.min_source_distance_km`` to a station; or
    ``spec.point_sources`` when given. Weight = ``background_weight`` plus the Gaussian
    blobs (geodesic distance to each blob centre); area = the ellipsoidal area of the cell.

    Parameters
    ----------
    spec
        Demo parameters.
    stations
        The sites the sources must keep away from.

    Returns
    -------
    NoiseSources
    """
    step = spec.source_grid_step_km
    m, n = radii_of_curvature(spec.center_lat)
    dlat = np.degrees(step * 1e3 / m)
    dlon = np.degrees(step * 1e3 / (n * np.cos(np.radians(spec.center_lat))))
    if spec.point_sources:
        pts = np.asarray(spec.point_sources, dtype=float).reshape(-1, 2)
        lat, lon = _round_coords(pts[:, 0], pts[:, 1])
        weight = np.ones(lat.size)
        area = np.full(lat.size, (step * 1e3) ** 2)
        return NoiseSources(lat, lon, weight, area)
    half = int(np.floor(spec.source_half_width_km / step))
    ticks = np.arange(-half, half + 1) * step
    east, north = np.meshgrid(ticks, ticks)
    lat, lon = _round_coords(*local_to_lonlat(east.ravel(), north.ravel(), spec.center_lat,
                                              spec.center_lon))
    sta_lat = np.array([s.latitude for s in stations])
    sta_lon = np.array([s.longitude for s in stations])
    dist, _, _ = geodesic_inverse(lat[:, None], lon[:, None], sta_lat[None], sta_lon[None])
    keep = dist.min(axis=1) >= spec.min_source_distance_km * 1e3
    lat, lon = lat[keep], lon[keep]
    weight = np.full(lat.size, spec.background_weight)
    if spec.source_blobs:
        blobs = np.asarray(spec.source_blobs, dtype=float).reshape(-1, 4)
        d_blob, _, _ = geodesic_inverse(lat[:, None], lon[:, None], blobs[None, :, 0],
                                        blobs[None, :, 1])
        sigma_m = blobs[None, :, 2] * 1e3
        weight = weight + np.sum(blobs[None, :, 3] * np.exp(-0.5 * (d_blob / sigma_m) ** 2), axis=1)
    log.debug("%d noise sources (%d grid points too close to a station)", lat.size,
              int((~keep).sum()))
    return NoiseSources(lat, lon, weight, cell_area_m2(lat, dlat, dlon))
