"""Noise source models in the noisi format (paper Appendix D).

A source model gives the power spectral density of the noise sources at each
grid point as a weighted sum of spectral basis functions,
S(xi_k, f) = sum_b model[k, b] spectral_basis[b, f]. The HDF5 file
(``starting_model.h5`` or ``iter/{i}/model.h5``) holds

- ``coordinates``: longitude and latitude, shape (2, ntraces);
- ``frequencies``: frequency axis in Hz (rFFT of the zero-padded Green's functions);
- ``model``: spatial weights, shape (ntraces, nbasis);
- ``spectral_basis``: shape (nbasis, nfreq);
- ``surface_areas``: area per grid point in m^2, shape (ntraces,).

Starting models superpose any number of distributions (homogeneous within
optional bounds, Gaussian blobs), each with a Gaussian spectrum; distributions
with the same spectrum share one basis function.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

from seismake.fileio import atomic_output
from seismake.geodesy import geodesic_inverse
from seismake.noisi.grid import SourceGrid

logger = logging.getLogger(__name__)

DATASETS = ("coordinates", "frequencies", "model", "spectral_basis", "surface_areas")
DISTRIBUTIONS = ("homogeneous", "gaussian_blob")


class SourceModelError(ValueError):
    """A source model file or array is inconsistent."""


@dataclass
class SourceModel:
    """Spatial weights and spectral basis of a noise source model.

    Attributes
    ----------
    lon, lat : np.ndarray
        Grid coordinates in degrees, shape (ntraces,).
    frequencies_hz : np.ndarray
        Frequency axis in Hz, shape (nfreq,).
    model : np.ndarray
        Non-negative weights, shape (ntraces, nbasis).
    spectral_basis : np.ndarray
        Spectral basis functions, shape (nbasis, nfreq).
    surface_areas_m2 : np.ndarray
        Area per grid point in m^2, shape (ntraces,).
    """

    lon: np.ndarray
    lat: np.ndarray
    frequencies_hz: np.ndarray
    model: np.ndarray
    spectral_basis: np.ndarray
    surface_areas_m2: np.ndarray

    def psd(self) -> np.ndarray:
        """Source power spectral density per grid point, shape (ntraces, nfreq)."""
        return self.model @ self.spectral_basis

    def with_model(self, model: np.ndarray) -> SourceModel:
        """Copy with new weights of the same shape (ntraces, nbasis)."""
        model = np.asarray(model, dtype=float).reshape(self.model.shape)
        return SourceModel(
            self.lon,
            self.lat,
            self.frequencies_hz,
            model,
            self.spectral_basis,
            self.surface_areas_m2,
        )


@dataclass(frozen=True)
class SourceDistribution:
    """One component of a starting model.

    Attributes
    ----------
    kind : str
        ``homogeneous`` or ``gaussian_blob``.
    amplitude : float
        Peak spatial weight.
    mean_hz, std_hz : float
        Mean and standard deviation of the Gaussian source spectrum in Hz.
    center_lon, center_lat : float
        Blob centre in degrees (``gaussian_blob``).
    sigma_m : float
        Blob standard deviation in metres (``gaussian_blob``).
    lon_range, lat_range : (float, float), optional
        Restrict the distribution to these bounds in degrees.
    """

    kind: str
    amplitude: float = 1.0
    mean_hz: float = 0.05
    std_hz: float = 0.02
    center_lon: float = 0.0
    center_lat: float = 0.0
    sigma_m: float = 100e3
    lon_range: tuple[float, float] | None = None
    lat_range: tuple[float, float] | None = None


def gaussian_spectrum(
    freqs_hz: np.ndarray, mean_hz: float, std_hz: float, normalize: bool = False
) -> np.ndarray:
    """Gaussian spectrum exp(-(f - mean)^2 / (2 std^2)), optionally divided by std sqrt(2 pi)."""
    if std_hz <= 0:
        raise ValueError(f"spectral width must be positive, got {std_hz} Hz")
    spec = np.exp(-((np.asarray(freqs_hz) - mean_hz) ** 2) / (2.0 * std_hz**2))
    if normalize:
        spec = spec / (std_hz * np.sqrt(2.0 * np.pi))
    return spec


def gaussian_basis(
    freqs_hz: np.ndarray,
    means_hz: Sequence[float],
    stds_hz: Sequence[float],
    normalize: bool = False,
) -> np.ndarray:
    """Spectral basis of Gaussians, shape (len(means_hz), nfreq)."""
    if len(means_hz) != len(stds_hz):
        raise ValueError("means_hz and stds_hz must have the same length")
    return np.array(
        [
            gaussian_spectrum(freqs_hz, m, s, normalize)
            for m, s in zip(means_hz, stds_hz, strict=True)
        ]
    ).reshape(len(means_hz), np.size(freqs_hz))


def distribution_weights(grid: SourceGrid, distribution: SourceDistribution) -> np.ndarray:
    """Spatial weights of one distribution on the grid, shape (ntraces,)."""
    if distribution.kind == "homogeneous":
        weights = np.full(grid.size, float(distribution.amplitude))
    elif distribution.kind == "gaussian_blob":
        dist, _, _ = geodesic_inverse(
            distribution.center_lat, distribution.center_lon, grid.lat, grid.lon
        )
        weights = distribution.amplitude * np.exp(-(dist**2) / (2.0 * distribution.sigma_m**2))
    else:
        raise ValueError(f"unknown distribution {distribution.kind!r}; use one of {DISTRIBUTIONS}")
    if distribution.lon_range is not None:
        lo, hi = distribution.lon_range
        weights = np.where((grid.lon >= lo) & (grid.lon <= hi), weights, 0.0)
    if distribution.lat_range is not None:
        lo, hi = distribution.lat_range
        weights = np.where((grid.lat >= lo) & (grid.lat <= hi), weights, 0.0)
    return weights


def make_source_model(
    grid: SourceGrid,
    frequencies_hz: np.ndarray,
    distributions: Sequence[SourceDistribution],
    normalize_spectra: bool = False,
) -> SourceModel:
    """Superpose distributions into a source model.

    Parameters
    ----------
    grid : SourceGrid
        Source grid.
    frequencies_hz : np.ndarray
        Frequency axis of the Green's functions (``Wavefield.frequencies_hz``).
    distributions : sequence of SourceDistribution
        At least one; distributions with equal (mean_hz, std_hz) share a basis function.
    normalize_spectra : bool
        Divide each Gaussian by std sqrt(2 pi).

    Returns
    -------
    SourceModel
        With one basis function per distinct spectrum, in order of first appearance.
    """
    if not distributions:
        raise ValueError("a source model needs at least one distribution")
    spectra: list[tuple[float, float]] = []
    for d in distributions:
        if (d.mean_hz, d.std_hz) not in spectra:
            spectra.append((d.mean_hz, d.std_hz))
    model = np.zeros((grid.size, len(spectra)))
    for d in distributions:
        model[:, spectra.index((d.mean_hz, d.std_hz))] += distribution_weights(grid, d)
    basis = gaussian_basis(
        frequencies_hz, [s[0] for s in spectra], [s[1] for s in spectra], normalize_spectra
    )
    return SourceModel(
        lon=grid.lon.copy(),
        lat=grid.lat.copy(),
        frequencies_hz=np.asarray(frequencies_hz, dtype=float).copy(),
        model=model,
        spectral_basis=basis,
        surface_areas_m2=grid.surface_areas_m2.copy(),
    )


def validate_source_model(model: SourceModel, name: str = "source model") -> None:
    """Check the shapes of a source model; raise :class:`SourceModelError` naming ``name``."""
    k = model.lon.size
    nfreq = model.frequencies_hz.size
    if model.lat.shape != (k,) or model.surface_areas_m2.shape != (k,):
        raise SourceModelError(
            f"{name}: coordinates and surface_areas must have {k} entries, got "
            f"{model.lat.shape} and {model.surface_areas_m2.shape}"
        )
    if model.model.ndim != 2 or model.model.shape[0] != k:
        raise SourceModelError(
            f"{name}: model has shape {model.model.shape}, expected ({k}, nbasis)"
        )
    expected = (model.model.shape[1], nfreq)
    if model.spectral_basis.shape != expected:
        raise SourceModelError(
            f"{name}: spectral_basis has shape {model.spectral_basis.shape}, expected {expected}"
        )
    if not np.all(np.isfinite(model.model)):
        raise SourceModelError(f"{name}: model contains non-finite weights")


def write_source_model(path: str | Path, model: SourceModel) -> None:
    """Write a source model as an Appendix D HDF5 file, atomically."""
    validate_source_model(model, str(path))
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("coordinates", data=np.vstack([model.lon, model.lat]))
        f.create_dataset("frequencies", data=model.frequencies_hz)
        f.create_dataset("model", data=model.model)
        f.create_dataset("spectral_basis", data=model.spectral_basis)
        f.create_dataset("surface_areas", data=model.surface_areas_m2)


def read_source_model(path: str | Path) -> SourceModel:
    """Read and validate an Appendix D source model.

    Raises
    ------
    SourceModelError
        Naming the file: a missing dataset or inconsistent shapes.
    """
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise SourceModelError(f"{path}: cannot open as HDF5 ({exc})") from exc
    with f:
        missing = [k for k in DATASETS if k not in f]
        if missing:
            raise SourceModelError(f"{path}: missing dataset(s) {', '.join(missing)}")
        coords = f["coordinates"][()]
        if coords.ndim != 2 or coords.shape[0] != 2:
            raise SourceModelError(
                f"{path}: coordinates has shape {coords.shape}, expected (2, ntraces)"
            )
        model = SourceModel(
            lon=coords[0].astype(float),
            lat=coords[1].astype(float),
            frequencies_hz=f["frequencies"][()].astype(float),
            model=f["model"][()].astype(float),
            spectral_basis=f["spectral_basis"][()].astype(float),
            surface_areas_m2=f["surface_areas"][()].astype(float),
        )
    validate_source_model(model, str(path))
    return model


def model_from_points(
    grid: SourceGrid,
    frequencies_hz: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    weights: np.ndarray,
    mean_hz: float,
    std_hz: float,
) -> SourceModel:
    """A one-basis source model from weights known at scattered points (e.g. a truth table).

    The weights are interpolated linearly in longitude and latitude (Delaunay
    triangles); grid points outside the points' convex hull take the nearest point's
    weight.

    Parameters
    ----------
    grid : SourceGrid
        Target grid.
    frequencies_hz : np.ndarray
        Frequency axis of the Green's functions, shape (nfreq,).
    lon, lat : np.ndarray
        Point coordinates in degrees, shape (npoints,).
    weights : np.ndarray
        Spatial weights at the points, shape (npoints,).
    mean_hz, std_hz : float
        Gaussian spectrum of the single basis function.
    """
    points = np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])
    values = np.asarray(weights, dtype=float)
    if values.shape != (points.shape[0],):
        raise SourceModelError(
            f"{values.size} weights for {points.shape[0]} points; expected one per point"
        )
    targets = np.column_stack([grid.lon, grid.lat])
    on_grid = LinearNDInterpolator(points, values, fill_value=np.nan)(targets)
    outside = np.isnan(on_grid)
    on_grid[outside] = NearestNDInterpolator(points, values)(targets[outside])
    logger.info(
        "interpolated %d point weights to %d grid points (%d outside their hull)",
        values.size,
        grid.size,
        int(outside.sum()),
    )
    return SourceModel(
        lon=grid.lon.copy(),
        lat=grid.lat.copy(),
        frequencies_hz=np.asarray(frequencies_hz, dtype=float).copy(),
        model=on_grid[:, None],
        spectral_basis=gaussian_basis(frequencies_hz, [mean_hz], [std_hz]),
        surface_areas_m2=grid.surface_areas_m2.copy(),
    )


def distributions_from_config(
    entries: Sequence[dict], mean_hz: float, std_hz: float
) -> list[SourceDistribution]:
    """Source distributions from config entries sharing one Gaussian spectrum.

    Parameters
    ----------
    entries : sequence of dict
        Each with ``kind`` and optionally ``amplitude``, ``center_lon``,
        ``center_lat``, ``sigma_m``, ``lon_range`` and ``lat_range`` (two-element lists).
    mean_hz, std_hz : float
        Mean and standard deviation of the spectrum in Hz.
    """
    out = []
    for entry in entries:
        values = dict(entry)
        for key in ("lon_range", "lat_range"):
            if values.get(key) is not None:
                values[key] = tuple(float(v) for v in values[key])
        out.append(SourceDistribution(mean_hz=mean_hz, std_hz=std_hz, **values))
    return out
