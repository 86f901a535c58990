"""Array geometry: element coordinates, checks of an array stream, slowness conventions.

Coordinates come from ``tr.stats.coordinates`` (``latitude``, ``longitude`` in degrees,
``elevation`` in metres), the attribute ObsPy's ``array_processing`` reads. Like ObsPy's
``get_geometry``, positions are taken relative to the array centre, the plain mean of the
element longitudes, latitudes and elevations, on a local tangent plane (x east, y north).
seismake projects on the WGS84 ellipsoid (meridian and prime-vertical radii of curvature
at the mid-latitude of each element and the centre), in metres.

Slowness vectors in seismake are propagation slownesses (s/km, east and north
components): a plane wave with slowness ``s`` reaches the element at ``r`` at
``t0 + s . r``. Its backazimuth (direction towards the source, degrees clockwise from
north, in [0, 360)) is that of ``-s``, and its trace velocity is ``1 / |s|`` (km/s).

Sampling rates: all elements must share one sampling rate; a stream with mixed rates is
rejected with :class:`SamplingRateMismatch`, whose message lists every trace id and rate.
seismake does not resample silently, because resampling changes the phase response of
each element; resample explicitly (e.g. ``Stream.resample``) before array processing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from obspy import Inventory, Stream
from obspy.core.util import AttribDict

log = logging.getLogger(__name__)

WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563


class ArrayStreamError(ValueError):
    """A stream cannot be processed as an array; the message names the trace(s)."""


class MissingCoordinatesError(ArrayStreamError):
    """A trace has no usable ``stats.coordinates``."""


class SamplingRateMismatch(ArrayStreamError):
    """The traces of an array stream have different sampling rates."""


@dataclass(frozen=True)
class ArrayGeometry:
    """Element positions of an array.

    Attributes
    ----------
    ids
        Trace ids (``NET.STA.LOC.CHA``), in stream order.
    latitude, longitude
        Element coordinates, degrees, shape (N,).
    elevation_m
        Element elevations, metres, shape (N,).
    east_m, north_m, up_m
        Positions relative to the array centre, metres, shape (N,).
    center
        (longitude deg, latitude deg, elevation m) of the array centre.
    """

    ids: tuple[str, ...]
    latitude: np.ndarray
    longitude: np.ndarray
    elevation_m: np.ndarray
    east_m: np.ndarray
    north_m: np.ndarray
    up_m: np.ndarray
    center: tuple[float, float, float]

    @property
    def xy_km(self) -> np.ndarray:
        """Horizontal positions (east, north) in km, shape (N, 2)."""
        return np.column_stack([self.east_m, self.north_m]) / 1000.0

    @property
    def aperture_m(self) -> float:
        """Largest horizontal distance between two elements, metres."""
        d = self.xy_km[:, None, :] - self.xy_km[None, :, :]
        return float(np.sqrt((d**2).sum(axis=-1)).max() * 1000.0)


def local_east_north(
    longitude: np.ndarray, latitude: np.ndarray, lon0: float, lat0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Project geographic coordinates onto the tangent plane at (lon0, lat0).

    Parameters
    ----------
    longitude, latitude
        Degrees, any matching shape.
    lon0, lat0
        Origin, degrees.

    Returns
    -------
    east_m, north_m
        Metres, same shape as the input. Accurate to about 1e-6 relative for arrays of
        a few tens of km (radii of curvature evaluated at the mid-latitude).
    """
    lat = np.radians(np.asarray(latitude, dtype=float))
    dlon = np.radians((np.asarray(longitude, dtype=float) - lon0 + 180.0) % 360.0 - 180.0)
    phi0 = np.radians(lat0)
    phi_m = 0.5 * (lat + phi0)
    e2 = WGS84_F * (2.0 - WGS84_F)
    w = np.sqrt(1.0 - e2 * np.sin(phi_m) ** 2)
    prime_vertical = WGS84_A_M / w
    meridian = WGS84_A_M * (1.0 - e2) / w**3
    return prime_vertical * np.cos(phi_m) * dlon, meridian * (lat - phi0)


def _coordinates_of(tr) -> tuple[float, float, float]:
    coords = tr.stats.get("coordinates")
    if coords is None:
        raise MissingCoordinatesError(
            f"trace {tr.id} has no stats.coordinates (latitude, longitude, elevation); "
            "attach them with seismake.array.geometry.attach_coordinates"
        )
    try:
        values = (float(coords["latitude"]), float(coords["longitude"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise MissingCoordinatesError(
            f"trace {tr.id}: stats.coordinates lacks a numeric latitude/longitude ({exc!r})"
        ) from exc
    if not all(np.isfinite(values)):
        raise MissingCoordinatesError(f"trace {tr.id}: non-finite coordinates {values}")
    elevation = coords.get("elevation", 0.0)
    return values[0], values[1], float(elevation if elevation is not None else 0.0)


def array_geometry(st: Stream) -> ArrayGeometry:
    """Element positions relative to the array centre.

    Parameters
    ----------
    st
        One trace per element, each with ``stats.coordinates``.

    Raises
    ------
    MissingCoordinatesError
        When a trace lacks coordinates (the message names the trace id).
    ArrayStreamError
        When the stream is empty or two traces share an id.
    """
    if len(st) == 0:
        raise ArrayStreamError("empty stream: an array needs at least two elements")
    ids = tuple(tr.id for tr in st)
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ArrayStreamError(
            f"traces {', '.join(dup)} appear more than once; merge gaps first (one trace per "
            "element)"
        )
    lat, lon, elev = np.array([_coordinates_of(tr) for tr in st]).T
    lon_ref = lon[0]
    lon_c = lon_ref + float(np.mean((lon - lon_ref + 180.0) % 360.0 - 180.0))
    lat_c = float(lat.mean())
    elev_c = float(elev.mean())
    east, north = local_east_north(lon, lat, lon_c, lat_c)
    geometry = ArrayGeometry(
        ids=ids,
        latitude=lat,
        longitude=lon,
        elevation_m=elev,
        east_m=east,
        north_m=north,
        up_m=elev - elev_c,
        center=(float((lon_c + 180.0) % 360.0 - 180.0), lat_c, elev_c),
    )
    log.info(
        "array of %d elements, aperture %.0f m, centre %.5f E %.5f N",
        len(ids),
        geometry.aperture_m,
        geometry.center[0],
        geometry.center[1],
    )
    return geometry


def check_sampling_rates(st: Stream) -> float:
    """Common sampling rate of the stream, Hz.

    Raises
    ------
    SamplingRateMismatch
        When the rates differ by more than 1e-9 relative; the message lists every
        trace id with its rate. See the module docstring for why seismake does not
        resample here.
    """
    if len(st) == 0:
        raise ArrayStreamError("empty stream: an array needs at least two elements")
    rates = np.array([tr.stats.sampling_rate for tr in st], dtype=float)
    if not np.allclose(rates, rates[0], rtol=1e-9, atol=0.0):
        listing = ", ".join(f"{tr.id}: {tr.stats.sampling_rate:g} Hz" for tr in st)
        raise SamplingRateMismatch(
            f"array elements have different sampling rates ({listing}); resample them to "
            "one rate before array processing"
        )
    return float(rates[0])


def attach_coordinates(
    st: Stream, coordinates: Inventory | Mapping[str, Mapping[str, float]]
) -> Stream:
    """Set ``tr.stats.coordinates`` of every trace, in place.

    Parameters
    ----------
    st
        Array stream.
    coordinates
        An ObsPy Inventory (the channel epoch at each trace's start time is used) or a
        mapping ``seed_id -> {"latitude", "longitude", "elevation" or "elevation_m"}``
        such as the ``channels`` of a seismake manifest. Elevations in metres.

    Returns
    -------
    The same stream.

    Raises
    ------
    MissingCoordinatesError
        When a trace id has no coordinates in ``coordinates`` (the message names it).
    """
    for tr in st:
        if isinstance(coordinates, Inventory):
            try:
                c = coordinates.get_coordinates(tr.id, tr.stats.starttime)
            except Exception as exc:
                raise MissingCoordinatesError(
                    f"trace {tr.id}: no coordinates in the inventory at "
                    f"{tr.stats.starttime} ({exc})"
                ) from exc
            elevation = c["elevation"]
        else:
            if tr.id not in coordinates:
                raise MissingCoordinatesError(f"trace {tr.id}: no coordinates given for this id")
            c = coordinates[tr.id]
            elevation = c.get("elevation", c.get("elevation_m", 0.0))
        tr.stats.coordinates = AttribDict(
            latitude=float(c["latitude"]),
            longitude=float(c["longitude"]),
            elevation=float(elevation if elevation is not None else 0.0),
        )
    return st


def slowness_from_baz(backazimuth_deg: float, velocity_km_s: float) -> tuple[float, float]:
    """Propagation slowness (east, north), s/km, of a plane wave from ``backazimuth_deg``."""
    if velocity_km_s <= 0:
        raise ValueError(f"trace velocity must be positive, got {velocity_km_s} km/s")
    baz = np.radians(backazimuth_deg)
    return float(-np.sin(baz) / velocity_km_s), float(-np.cos(baz) / velocity_km_s)


def baz_velocity(slowness_x: np.ndarray, slowness_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Backazimuth (degrees in [0, 360)) and trace velocity (km/s) of propagation slownesses.

    Slownesses below 1e-8 s/km are clipped to 1e-8 (as ObsPy does), so a vertical
    incidence gives a large finite velocity.
    """
    sx = np.asarray(slowness_x, dtype=float)
    sy = np.asarray(slowness_y, dtype=float)
    baz = (np.degrees(np.arctan2(sx, sy)) + 180.0) % 360.0
    baz = np.where(baz >= 360.0, baz - 360.0, baz)
    return baz, 1.0 / np.maximum(np.hypot(sx, sy), 1e-8)
