"""Geodesy on the WGS84 ellipsoid, vectorized: geodesic distances and azimuths, a local
projection for placing points, and the area of latitude-longitude cells.

Every distance and azimuth of the demo's physics and of the noisi branch comes from
:func:`geodesic_inverse` (Vincenty's inverse formula, the same one ObsPy's
``gps2dist_azimuth`` uses when geographiclib is absent), so travel times agree with what
ObsPy computes from StationXML coordinates. :func:`local_to_lonlat` places stations,
array elements and grid points of the demo.
"""

from __future__ import annotations

import numpy as np

WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
_WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
_E2 = WGS84_F * (2.0 - WGS84_F)


def geodesic_inverse(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance and azimuths between points on the WGS84 ellipsoid (Vincenty's inverse).

    Inputs broadcast against each other. Not meant for nearly antipodal points.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Coordinates of the first and second points, degrees.

    Returns
    -------
    dist_m : numpy.ndarray
        Geodesic distance, metres.
    az_deg : numpy.ndarray
        Azimuth at point 1 towards point 2, degrees clockwise from north, [0, 360).
    baz_deg : numpy.ndarray
        Azimuth at point 2 towards point 1 (backazimuth), degrees, [0, 360).

    Raises
    ------
    ValueError
        If the iteration does not converge (nearly antipodal points).
    """
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(x, dtype=float)) for x in np.broadcast_arrays(lat1, lon1, lat2, lon2)
    )
    f = WGS84_F
    dlon = lam2 - lam1
    u1 = np.arctan((1.0 - f) * np.tan(phi1))
    u2 = np.arctan((1.0 - f) * np.tan(phi2))
    su1, cu1, su2, cu2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = dlon.copy()
    for _ in range(200):
        sl, cl = np.sin(lam), np.cos(lam)
        sin_sigma = np.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
        cos_sigma = su1 * su2 + cu1 * cu2 * cl
        sigma = np.arctan2(sin_sigma, cos_sigma)
        same = sin_sigma == 0.0
        sin_alpha = np.where(same, 0.0, cu1 * cu2 * sl / np.where(same, 1.0, sin_sigma))
        cos2_alpha = 1.0 - sin_alpha**2
        equatorial = cos2_alpha == 0.0
        cos_2sm = np.where(
            equatorial, 0.0, cos_sigma - 2.0 * su1 * su2 / np.where(equatorial, 1.0, cos2_alpha)
        )
        c = f / 16.0 * cos2_alpha * (4.0 + f * (4.0 - 3.0 * cos2_alpha))
        lam_new = dlon + (1.0 - c) * f * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1.0 + 2.0 * cos_2sm**2))
        )
        done = np.all(np.abs(lam_new - lam) < 1e-12)
        lam = lam_new
        if done:
            break
    else:
        raise ValueError("Vincenty's inverse formula did not converge (nearly antipodal points)")
    sl, cl = np.sin(lam), np.cos(lam)
    sin_sigma = np.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
    cos_sigma = su1 * su2 + cu1 * cu2 * cl
    sigma = np.arctan2(sin_sigma, cos_sigma)
    u_sq = cos2_alpha * (WGS84_A_M**2 - _WGS84_B_M**2) / _WGS84_B_M**2
    a_coef = 1.0 + u_sq / 16384.0 * (4096.0 + u_sq * (-768.0 + u_sq * (320.0 - 175.0 * u_sq)))
    b_coef = u_sq / 1024.0 * (256.0 + u_sq * (-128.0 + u_sq * (74.0 - 47.0 * u_sq)))
    delta_sigma = b_coef * sin_sigma * (
        cos_2sm
        + b_coef
        / 4.0
        * (
            cos_sigma * (-1.0 + 2.0 * cos_2sm**2)
            - b_coef / 6.0 * cos_2sm * (-3.0 + 4.0 * sin_sigma**2) * (-3.0 + 4.0 * cos_2sm**2)
        )
    )
    dist = _WGS84_B_M * a_coef * (sigma - delta_sigma)
    az = np.degrees(np.arctan2(cu2 * sl, cu1 * su2 - su1 * cu2 * cl))
    baz = np.degrees(np.arctan2(cu1 * sl, -su1 * cu2 + cu1 * su2 * cl)) + 180.0
    same = sin_sigma == 0.0
    return (
        np.where(same, 0.0, dist),
        np.where(same, 0.0, np.mod(az, 360.0)),
        np.where(same, 0.0, np.mod(baz, 360.0)),
    )


def radii_of_curvature(lat_deg: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Meridional and prime-vertical radii of curvature of WGS84.

    Parameters
    ----------
    lat_deg
        Latitude, degrees.

    Returns
    -------
    m_m, n_m : numpy.ndarray
        Radii of curvature along the meridian and the prime vertical, metres.
    """
    s2 = np.sin(np.radians(np.asarray(lat_deg, dtype=float))) ** 2
    w = np.sqrt(1.0 - _E2 * s2)
    return WGS84_A_M * (1.0 - _E2) / w**3, WGS84_A_M / w


def local_to_lonlat(
    east_km: np.ndarray, north_km: np.ndarray, lat0: float, lon0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Place points given in km east and north of ``(lat0, lon0)`` (local projection).

    The projection is equirectangular with the WGS84 radii of curvature at ``lat0``: one
    degree of latitude spans ``M(lat0)`` and one degree of longitude ``N(lat0) cos(lat0)``.

    Parameters
    ----------
    east_km, north_km
        Offsets, km, any broadcastable shapes.
    lat0, lon0
        Origin, degrees.

    Returns
    -------
    lat, lon : numpy.ndarray
        Degrees.
    """
    m, n = radii_of_curvature(lat0)
    lat = lat0 + np.degrees(np.asarray(north_km) * 1e3 / m)
    lon = lon0 + np.degrees(np.asarray(east_km) * 1e3 / (n * np.cos(np.radians(lat0))))
    return lat, lon


def cell_area_m2(lat_deg: np.ndarray, dlat_deg: float, dlon_deg: float) -> np.ndarray:
    """Area of latitude-longitude cells centred at ``lat_deg`` on the WGS84 ellipsoid.

    Parameters
    ----------
    lat_deg
        Cell-centre latitudes, degrees, shape (N,).
    dlat_deg, dlon_deg
        Cell size, degrees.

    Returns
    -------
    numpy.ndarray
        ``M(lat) N(lat) cos(lat) dlat dlon``, m^2, shape (N,).
    """
    m, n = radii_of_curvature(lat_deg)
    return m * n * np.cos(np.radians(lat_deg)) * np.radians(dlat_deg) * np.radians(dlon_deg)


def azimuthal_offsets_m(
    lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float
) -> tuple[np.ndarray, np.ndarray]:
    """East and north offsets of points from ``(lat0, lon0)``, azimuthal equidistant.

    Parameters
    ----------
    lat, lon
        Degrees, shape (N,).
    lat0, lon0
        Origin, degrees.

    Returns
    -------
    east_m, north_m : numpy.ndarray
        ``d sin(az)`` and ``d cos(az)`` with ``d, az`` the WGS84 geodesic distance and
        azimuth from the origin, metres, shape (N,).
    """
    dist, az, _ = geodesic_inverse(lat0, lon0, lat, lon)
    return dist * np.sin(np.radians(az)), dist * np.cos(np.radians(az))
