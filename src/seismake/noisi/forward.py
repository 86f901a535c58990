"""Modelled noise cross-correlations from Green's functions and a source model.

For receivers i and j the correlation spectrum is the weighted sum over the
source grid (rectangle rule)

    C_ij(f) = sum_k conj(G_i(xi_k, f)) G_j(xi_k, f) S(xi_k, f) A_k,

with G the continuous Fourier transform of the Green's functions
(``dt * rfft``), S the source PSD and A_k the cell areas. For all receivers at
once this is, frequency by frequency, the matrix product G^H diag(S A) G over
the grid points, evaluated as one batched ``matmul`` (in chunks of grid points
to bound memory). The lag-domain correlation is c(tau) = irfft(C) / dt,
centred on zero lag and cut to +-max_lag; a positive lag means the signal
reaches receiver j after receiver i.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from seismake.fileio import atomic_output
from seismake.noisi.greens import Wavefield
from seismake.noisi.sacio import CorrelationTrace
from seismake.noisi.sources import SourceModel

logger = logging.getLogger(__name__)

_CHUNK_ELEMENTS = 2**20


class ModelMismatchError(ValueError):
    """Green's functions and source model do not share a grid or frequency axis."""


@dataclass
class GreensSpectra:
    """Green's-function spectra of several receivers on a common grid.

    Attributes
    ----------
    spectra : np.ndarray
        ``dt * rfft`` of the Green's functions, complex, shape (nsta, ntraces, nfreq).
    station_ids : list of str
        Receiver SEED ids, length nsta.
    frequencies_hz : np.ndarray
        Frequency axis in Hz, shape (nfreq,).
    n_fft : int
        FFT length.
    fs_hz : float
        Sampling rate in Hz.
    max_lag_samples : int
        Largest lag (in samples) the traces support.
    lon, lat : np.ndarray
        Source grid in degrees, shape (ntraces,).
    """

    spectra: np.ndarray
    station_ids: list[str]
    frequencies_hz: np.ndarray
    n_fft: int
    fs_hz: float
    max_lag_samples: int
    lon: np.ndarray
    lat: np.ndarray

    @property
    def dt(self) -> float:
        """Sampling interval in s."""
        return 1.0 / self.fs_hz

    def subset(self, indices: Sequence[int]) -> GreensSpectra:
        """The same database restricted to some receivers."""
        idx = list(indices)
        return GreensSpectra(
            self.spectra[idx],
            [self.station_ids[i] for i in idx],
            self.frequencies_hz,
            self.n_fft,
            self.fs_hz,
            self.max_lag_samples,
            self.lon,
            self.lat,
        )


@dataclass
class CorrelationSet:
    """Correlations of station pairs on a common lag axis.

    Attributes
    ----------
    data : np.ndarray
        Correlations, shape (npairs, nlag).
    lags_s : np.ndarray
        Lags in s, symmetric about zero, shape (nlag,).
    pairs : np.ndarray
        Indices into ``station_ids`` of station 1 and 2, shape (npairs, 2).
    station_ids : list of str
        SEED ids of the stations.
    """

    data: np.ndarray
    lags_s: np.ndarray
    pairs: np.ndarray
    station_ids: list[str]

    @property
    def pair_ids(self) -> list[tuple[str, str]]:
        """SEED ids of station 1 and 2 for every pair."""
        return [(self.station_ids[i], self.station_ids[j]) for i, j in self.pairs]

    @property
    def dt(self) -> float:
        """Lag sampling interval in s."""
        return float(self.lags_s[1] - self.lags_s[0])


def stack_greens(wavefields: Sequence[Wavefield]) -> GreensSpectra:
    """Spectra of several receivers' wavefields, checked for a common grid and sampling.

    Parameters
    ----------
    wavefields : sequence of Wavefield
        One per receiver channel, e.g. from :func:`seismake.noisi.greens.read_wavefield`.

    Raises
    ------
    ModelMismatchError
        When the wavefields differ in grid, sampling rate, FFT length or quantity.
    """
    if not wavefields:
        raise ValueError("need at least one wavefield")
    ref = wavefields[0]
    for wf in wavefields[1:]:
        name = wf.reference_station
        if wf.sourcegrid.shape != ref.sourcegrid.shape or not np.allclose(
            wf.sourcegrid, ref.sourcegrid, atol=1e-5
        ):
            raise ModelMismatchError(f"{name}: source grid differs from {ref.reference_station}")
        if not np.isclose(wf.fs_hz, ref.fs_hz) or wf.n_fft != ref.n_fft:
            raise ModelMismatchError(
                f"{name}: sampling ({wf.fs_hz} Hz, FFT length {wf.n_fft}) differs from "
                f"{ref.reference_station} ({ref.fs_hz} Hz, {ref.n_fft})"
            )
        if wf.data_quantity != ref.data_quantity:
            raise ModelMismatchError(
                f"{name}: data_quantity {wf.data_quantity} differs from {ref.data_quantity}"
            )
    ids = [wf.reference_station for wf in wavefields]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate reference stations among {ids}")
    spectra = np.empty((len(wavefields), ref.ntraces, ref.n_fft // 2 + 1), dtype=np.complex128)
    for wf, block in zip(wavefields, spectra, strict=True):
        wf.spectra(out=block)
    return GreensSpectra(
        spectra=spectra,
        station_ids=ids,
        frequencies_hz=ref.frequencies_hz,
        n_fft=ref.n_fft,
        fs_hz=float(ref.fs_hz),
        max_lag_samples=min(wf.n_time for wf in wavefields) - 1,
        lon=np.asarray(ref.sourcegrid[0], dtype=float),
        lat=np.asarray(ref.sourcegrid[1], dtype=float),
    )


def check_compatible(greens: GreensSpectra, model: SourceModel) -> None:
    """Raise :class:`ModelMismatchError` unless the model matches the Green's functions' grid and
    frequencies."""
    if model.lon.shape != greens.lon.shape or not (
        np.allclose(model.lon, greens.lon, atol=1e-5)
        and np.allclose(model.lat, greens.lat, atol=1e-5)
    ):
        raise ModelMismatchError(
            f"source model grid ({model.lon.size} points) differs from the Green's functions' grid "
            f"({greens.lon.size} points)"
        )
    if model.frequencies_hz.shape != greens.frequencies_hz.shape or not np.allclose(
        model.frequencies_hz, greens.frequencies_hz
    ):
        raise ModelMismatchError(
            f"source model has {model.frequencies_hz.size} frequencies, the Green's functions "
            f"{greens.frequencies_hz.size} (FFT length {greens.n_fft})"
        )


def station_pairs(n_stations: int, autocorrelations: bool = False) -> np.ndarray:
    """Index pairs (i, j) with i < j (i <= j with autocorrelations), shape (npairs, 2)."""
    i, j = np.triu_indices(n_stations, k=0 if autocorrelations else 1)
    return np.column_stack([i, j])


def pair_indices(station_ids: Sequence[str], pair_ids: Sequence[tuple[str, str]]) -> np.ndarray:
    """Index pairs, shape (npairs, 2), for pairs of station ids; unknown ids raise ValueError."""
    lookup = {sid: i for i, sid in enumerate(station_ids)}
    unknown = sorted({sid for pair in pair_ids for sid in pair if sid not in lookup})
    if unknown:
        raise ValueError(f"no Green's functions for station(s) {', '.join(unknown)}")
    return np.array([[lookup[a], lookup[b]] for a, b in pair_ids], dtype=int).reshape(-1, 2)


def correlation_spectra(
    greens: GreensSpectra, weights: np.ndarray, pairs: np.ndarray
) -> np.ndarray:
    """Correlation spectra sum_k conj(G_i) G_j W_k for station pairs.

    Parameters
    ----------
    greens : GreensSpectra
        Spectra of shape (nsta, ntraces, nfreq).
    weights : np.ndarray
        Source PSD times cell area, shape (ntraces, nfreq).
    pairs : np.ndarray
        Station index pairs, shape (npairs, 2).

    Returns
    -------
    np.ndarray
        Complex spectra, shape (npairs, nfreq).
    """
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    used = np.unique(pairs)
    local = np.searchsorted(used, pairs)
    _, ntraces, nfreq = greens.spectra.shape
    nsta = used.size
    chunk = max(1, _CHUNK_ELEMENTS // (ntraces * nsta))
    total = np.empty((nfreq, nsta, nsta), dtype=np.complex128)
    for start in range(0, nfreq, chunk):
        sl = slice(start, start + chunk)
        # frequency-major block (nf, nsta, ntraces): per frequency G^H diag(W) G over the grid
        g = np.ascontiguousarray(greens.spectra[used, :, sl].transpose(2, 0, 1))
        weighted = g * weights[:, sl].T[:, None, :]
        np.conjugate(g, out=g)
        total[sl] = g @ weighted.transpose(0, 2, 1)
    return total[:, local[:, 0], local[:, 1]].T


def lag_indices(n_lag_half: int, n_fft: int) -> np.ndarray:
    """Positions of lags -L..L in an FFT buffer of length ``n_fft``, shape (2 L + 1,)."""
    return np.arange(-n_lag_half, n_lag_half + 1) % n_fft


def spectra_to_lags(spectra: np.ndarray, n_fft: int, fs_hz: float, n_lag_half: int) -> np.ndarray:
    """Lag-domain correlations irfft(C) / dt at lags -L..L, shape (..., 2 L + 1)."""
    full = np.fft.irfft(spectra, n=n_fft, axis=-1) * fs_hz
    return full[..., lag_indices(n_lag_half, n_fft)]


def lag_samples(max_lag_s: float, greens: GreensSpectra) -> int:
    """Number of samples L for a maximum lag, checked against the Green's functions' length."""
    n_half = round(max_lag_s * greens.fs_hz)
    if n_half < 1 or n_half > greens.max_lag_samples:
        raise ValueError(
            f"max lag {max_lag_s} s needs {n_half} samples; the Green's functions support "
            f"1 to {greens.max_lag_samples} ({greens.max_lag_samples / greens.fs_hz} s)"
        )
    return n_half


def correlate(
    greens: GreensSpectra, model: SourceModel, pairs: np.ndarray, max_lag_s: float
) -> CorrelationSet:
    """Modelled correlations of station pairs for a source model.

    Parameters
    ----------
    greens : GreensSpectra
        Green's functions of the receivers.
    model : SourceModel
        Source model on the same grid and frequency axis.
    pairs : np.ndarray
        Station index pairs, shape (npairs, 2); see :func:`station_pairs`.
    max_lag_s : float
        Largest lag in s.

    Returns
    -------
    CorrelationSet
        Correlations of shape (npairs, 2 L + 1), L = round(max_lag_s * fs_hz).
    """
    check_compatible(greens, model)
    n_half = lag_samples(max_lag_s, greens)
    weights = model.psd() * model.surface_areas_m2[:, None]
    spectra = correlation_spectra(greens, weights, pairs)
    data = spectra_to_lags(spectra, greens.n_fft, greens.fs_hz, n_half)
    lags = np.arange(-n_half, n_half + 1) / greens.fs_hz
    logger.info("modelled %d correlations on %d grid points", len(pairs), greens.lon.size)
    return CorrelationSet(data, lags, np.asarray(pairs, dtype=int), list(greens.station_ids))


def add_gaussian_noise(data: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise with standard deviation ``level`` times the mean RMS of all traces.

    Parameters
    ----------
    data : np.ndarray
        Correlations, shape (npairs, nlag).
    level : float
        Relative noise level, e.g. 0.05 for 5 %.
    rng : np.random.Generator
        Source of randomness.
    """
    rms = np.sqrt(np.mean(np.asarray(data) ** 2, axis=-1)).mean()
    return data + rng.normal(scale=level * rms, size=np.shape(data))


def write_correlations_h5(path: str | Path, correlations: CorrelationSet) -> None:
    """Write a correlation set to HDF5 (``correlations``, ``lags``, ``pairs``, ``station_ids``)."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("correlations", data=correlations.data)
        f.create_dataset("lags", data=correlations.lags_s)
        f.create_dataset("pairs", data=correlations.pairs)
        f.create_dataset("station_ids", data=np.array(correlations.station_ids, dtype="S"))
        f["lags"].attrs["units"] = "s"
        f.attrs["sign_convention"] = "positive lag: arrival at station 2 after station 1"


def read_correlations_h5(path: str | Path) -> CorrelationSet:
    """Read a correlation set written by :func:`write_correlations_h5`."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [k for k in ("correlations", "lags", "pairs", "station_ids") if k not in f]
        if missing:
            raise ValueError(f"{path}: missing dataset(s) {', '.join(missing)}")
        data = f["correlations"][()]
        lags = f["lags"][()]
        pairs = f["pairs"][()]
        ids = [s.decode() for s in f["station_ids"][()]]
    if data.shape != (pairs.shape[0], lags.size):
        raise ValueError(f"{path}: correlations shape {data.shape} does not match pairs and lags")
    return CorrelationSet(data, lags, pairs, ids)


def correlation_traces(
    correlations: CorrelationSet, coordinates: dict[str, tuple[float, float]]
) -> list[CorrelationTrace]:
    """Correlations as Appendix A records (one per pair) for SAC output.

    Parameters
    ----------
    correlations : CorrelationSet
        Modelled correlations.
    coordinates : dict
        Station SEED id -> (latitude, longitude) in degrees.
    """
    traces = []
    for (id1, id2), trace in zip(correlations.pair_ids, correlations.data, strict=True):
        lat1, lon1 = coordinates[id1]
        lat2, lon2 = coordinates[id2]
        traces.append(
            CorrelationTrace(
                data=trace,
                delta_s=correlations.dt,
                begin_s=float(correlations.lags_s[0]),
                station1=id1,
                station2=id2,
                lat1=lat1,
                lon1=lon1,
                lat2=lat2,
                lon2=lon2,
            )
        )
    return traces
