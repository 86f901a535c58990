"""Noise source grid on the WGS84 ellipsoid.

Points are laid out in rows of constant latitude spaced by a fixed distance in
metres along the meridian; within a row the points are spaced by the same
distance along the parallel. Each point represents the ellipsoidal quadrangle
of one step in both directions around it, so all points carry approximately
the same surface area (the rectangle rule of the noisi forward model).

Rows are centred between the latitude bounds and the points of a row are
centred between the longitude bounds. A longitude range of 360 degrees wraps
around: the row is split into an integer number of equal cells, so a global
grid covers the ellipsoid exactly once.

The module also holds vectorized geodesics on WGS84 (Vincenty's inverse
formulae) used for source-receiver distances throughout ``seismake.noisi``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from seismake.fileio import atomic_output

logger = logging.getLogger(__name__)

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
MEAN_EARTH_RADIUS_M = 6371008.8

_MERIDIAN_SAMPLES = 20001


@dataclass
class SourceGrid:
    """Source locations and the surface area each one represents.

    Attributes
    ----------
    lon, lat : np.ndarray
        Geographic coordinates in degrees, shape (ntraces,).
    surface_areas_m2 : np.ndarray
        Area of the cell around each point in m^2, shape (ntraces,).
    step_m : float
        Grid spacing in metres.
    """

    lon: np.ndarray
    lat: np.ndarray
    surface_areas_m2: np.ndarray
    step_m: float

    @property
    def size(self) -> int:
        """Number of grid points."""
        return int(self.lon.size)

    @property
    def coordinates(self) -> np.ndarray:
        """Longitude and latitude stacked as the noisi ``sourcegrid``, shape (2, ntraces)."""
        return np.vstack([self.lon, self.lat])


def _meridian_table() -> tuple[np.ndarray, np.ndarray]:
    """Meridian arc length from the equator, tabulated against latitude (radians, metres)."""
    phi = np.linspace(-np.pi / 2.0, np.pi / 2.0, _MERIDIAN_SAMPLES)
    integrand = WGS84_A * (1.0 - WGS84_E2) / (1.0 - WGS84_E2 * np.sin(phi) ** 2) ** 1.5
    arc = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(phi))])
    arc -= np.interp(0.0, phi, arc)
    return phi, arc


def meridian_arc_m(lat_deg: np.ndarray | float) -> np.ndarray:
    """Distance along the WGS84 meridian from the equator to ``lat_deg``, in metres."""
    phi, arc = _meridian_table()
    return np.interp(np.radians(lat_deg), phi, arc)


def latitude_from_meridian_arc(arc_m: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`meridian_arc_m`: latitude in degrees for an arc length in metres."""
    phi, arc = _meridian_table()
    return np.degrees(np.interp(arc_m, arc, phi))


def parallel_radius_m(lat_deg: np.ndarray | float) -> np.ndarray:
    """Radius of the parallel circle at ``lat_deg`` on WGS84, in metres."""
    phi = np.radians(lat_deg)
    return WGS84_A * np.cos(phi) / np.sqrt(1.0 - WGS84_E2 * np.sin(phi) ** 2)


def _authalic_q(phi: np.ndarray) -> np.ndarray:
    """Authalic function q(phi) of the ellipsoid (area of a zone is a^2/2 dlon dq)."""
    e = np.sqrt(WGS84_E2)
    s = np.sin(phi)
    return (1.0 - WGS84_E2) * (
        s / (1.0 - WGS84_E2 * s**2) - np.log((1.0 - e * s) / (1.0 + e * s)) / (2.0 * e)
    )


def quadrangle_area_m2(
    lat1_deg: np.ndarray, lat2_deg: np.ndarray, dlon_deg: np.ndarray
) -> np.ndarray:
    """Area of ellipsoidal quadrangles between two parallels, in m^2.

    Parameters
    ----------
    lat1_deg, lat2_deg : np.ndarray
        Southern and northern bounding latitudes in degrees (broadcastable).
    dlon_deg : np.ndarray
        Longitudinal width in degrees (broadcastable).
    """
    q1 = _authalic_q(np.radians(lat1_deg))
    q2 = _authalic_q(np.radians(lat2_deg))
    return 0.5 * WGS84_A**2 * np.radians(dlon_deg) * (q2 - q1)


def make_grid(
    lon_min: float, lon_max: float, lat_min: float, lat_max: float, step_m: float
) -> SourceGrid:
    """Build a source grid of approximately equal-area cells over geographic bounds.

    Parameters
    ----------
    lon_min, lon_max : float
        Longitude bounds in degrees; ``lon_max - lon_min`` of 360 wraps around.
    lat_min, lat_max : float
        Latitude bounds in degrees, within [-90, 90].
    step_m : float
        Spacing between neighbouring points along meridians and parallels, in metres.

    Returns
    -------
    SourceGrid
        Points ordered row by row from south to north, west to east.
    """
    if step_m <= 0:
        raise ValueError(f"grid step must be positive, got {step_m} m")
    if not (-90.0 <= lat_min < lat_max <= 90.0):
        raise ValueError(f"invalid latitude bounds [{lat_min}, {lat_max}]")
    width_deg = lon_max - lon_min
    if not (0.0 < width_deg <= 360.0):
        raise ValueError(f"invalid longitude bounds [{lon_min}, {lon_max}]")
    wraps = np.isclose(width_deg, 360.0)

    arc_lo, arc_hi = meridian_arc_m(np.array([lat_min, lat_max]))
    n_rows = int(np.floor((arc_hi - arc_lo) / step_m + 1e-9)) + 1
    row_arc = 0.5 * (arc_lo + arc_hi) + step_m * (np.arange(n_rows) - 0.5 * (n_rows - 1))
    row_lat = latitude_from_meridian_arc(row_arc)
    edge_south = latitude_from_meridian_arc(
        np.maximum(row_arc - 0.5 * step_m, meridian_arc_m(-90.0))
    )
    edge_north = latitude_from_meridian_arc(
        np.minimum(row_arc + 0.5 * step_m, meridian_arc_m(90.0))
    )

    radius = parallel_radius_m(row_lat)
    circumference = 2.0 * np.pi * radius
    if wraps:
        n_cols = np.maximum(1, np.rint(circumference / step_m)).astype(int)
        dlon = 360.0 / n_cols
    else:
        row_width_m = circumference * width_deg / 360.0
        n_cols = np.floor(row_width_m / step_m + 1e-9).astype(int) + 1
        dlon = np.where(radius > 0, 360.0 * step_m / np.maximum(circumference, 1e-30), width_deg)
    counts = n_cols
    row_index = np.repeat(np.arange(n_rows), counts)
    col_index = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    centre = 0.5 * (lon_min + lon_max)
    if wraps:
        lon = lon_min + (col_index + 0.5) * dlon[row_index]
    else:
        lon = centre + dlon[row_index] * (col_index - 0.5 * (counts[row_index] - 1))
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = row_lat[row_index]
    areas = quadrangle_area_m2(edge_south[row_index], edge_north[row_index], dlon[row_index])
    logger.info("source grid: %d points in %d rows, step %.0f m", lon.size, n_rows, step_m)
    return SourceGrid(lon=lon, lat=lat, surface_areas_m2=areas, step_m=float(step_m))


def great_circle_m(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
    radius_m: float = MEAN_EARTH_RADIUS_M,
) -> np.ndarray:
    """Great-circle distance on a sphere (haversine), in metres; inputs in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2.0) ** 2
    return 2.0 * radius_m * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def write_grid(path: str | Path, grid: SourceGrid) -> None:
    """Write a source grid to HDF5 (``sourcegrid`` 2 x ntraces, ``surface_areas``), atomically."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("sourcegrid", data=grid.coordinates)
        f.create_dataset("surface_areas", data=grid.surface_areas_m2)
        f.attrs["step_m"] = grid.step_m
        f.attrs["units_sourcegrid"] = "degrees (longitude, latitude)"
        f.attrs["units_surface_areas"] = "m^2"


def read_grid(path: str | Path) -> SourceGrid:
    """Read a source grid written by :func:`write_grid`."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("sourcegrid", "surface_areas") if k not in f]
            if missing:
                raise GridFileError(f"{path}: missing dataset(s) {', '.join(missing)}")
            coords = f["sourcegrid"][()]
            areas = f["surface_areas"][()]
            step = float(f.attrs.get("step_m", np.nan))
    except OSError as exc:
        raise GridFileError(f"{path}: cannot read grid file ({exc})") from exc
    if coords.ndim != 2 or coords.shape[0] != 2 or areas.shape != (coords.shape[1],):
        raise GridFileError(
            f"{path}: sourcegrid has shape {coords.shape} and surface_areas {areas.shape}; "
            "expected (2, ntraces) and (ntraces,)"
        )
    return SourceGrid(lon=coords[0], lat=coords[1], surface_areas_m2=areas, step_m=step)


class GridFileError(ValueError):
    """A grid file is missing or malformed."""
