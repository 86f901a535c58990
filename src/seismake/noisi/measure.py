"""Misfits between modelled and observed correlations and their adjoint sources.

Every measurement works on correlations filtered by each band of a list of
bandpass filters. A filter is applied in the frequency domain with the real,
zero-phase response |B(f)|^2 of a Butterworth bandpass B (what a forward and
backward pass of B does), after zero padding, so the filter operator is
symmetric and the adjoint source of the unfiltered correlation is the filtered
adjoint source of the filtered one.

Windows: a causal window w+ centred on the lag dist / group speed with
half-width ``half_width_s`` (flat) plus cosine flanks of ``taper_s``, zero at
non-positive lags, and the acausal window w-(tau) = w+(-tau). With
E = dt sum (w c)^2 the misfits J and adjoint sources dJ/dc (per sample) are

- ``full_waveform``: J = 1/2 sum (c_s - c_o)^2, adjoint c_s - c_o;
- ``windowed_waveform``: W = w+ + w-, J = 1/2 sum (W c_s - W c_o)^2, adjoint W (W c_s - W c_o);
- ``ln_energy_ratio`` (asymmetry): A = ln(E+ / E-), J = 1/2 (A_s - A_o)^2,
  adjoint (A_s - A_o) 2 dt (w+^2 c_s / E+_s - w-^2 c_s / E-_s);
- ``energy_diff``: J = sum over both branches 1/2 (E_s - E_o)^2 / E_o^2,
  adjoint sum (E_s - E_o) / E_o^2 2 dt w^2 c_s;
- ``square_envelope``: env = c^2 + H(c)^2 with H the Hilbert transform,
  J = 1/2 sum (env_s - env_o)^2, adjoint 2 r c_s - 2 H(r H(c_s)), r = env_s - env_o.

A window holding less than 1e-10 of a trace's energy counts as empty; the
energy measurements of such a trace are undefined and contribute nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
from scipy.signal import hilbert

from seismake.fileio import atomic_output
from seismake.filters import zero_phase_power
from seismake.geodesy import geodesic_inverse
from seismake.noisi.greens import next_power_of_two
from seismake.noisi.sacio import CorrelationTrace

logger = logging.getLogger(__name__)

MEASUREMENTS = (
    "full_waveform",
    "windowed_waveform",
    "ln_energy_ratio",
    "energy_diff",
    "square_envelope",
)

Band = tuple[float, float] | None


@dataclass
class MeasurementConfig:
    """How modelled and observed correlations are compared.

    Attributes
    ----------
    kind : str
        One of :data:`MEASUREMENTS`.
    filters : list of (fmin_hz, fmax_hz) or None
        Bandpass filters, one measurement each; None means unfiltered.
    corners : int
        Butterworth order of each pass.
    group_speed_mps : float
        Group speed that centres the windows, in m/s.
    half_width_s : float
        Half-width of the flat part of the windows, in s.
    taper_s : float
        Length of the cosine flanks of the windows, in s.
    """

    kind: str = "full_waveform"
    filters: list[Band] = field(default_factory=lambda: [None])
    corners: int = 4
    group_speed_mps: float = 3000.0
    half_width_s: float = 20.0
    taper_s: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in MEASUREMENTS:
            raise ValueError(f"unknown measurement {self.kind!r}; use one of {MEASUREMENTS}")
        if not self.filters:
            raise ValueError("need at least one filter (None for unfiltered)")


@dataclass
class Measurement:
    """Misfits and adjoint sources of a set of station pairs.

    Attributes
    ----------
    kind : str
        Measurement name.
    misfit : np.ndarray
        Misfit per pair and filter, shape (npairs, nfilters).
    adjoint : np.ndarray
        dJ/dc with respect to the unfiltered modelled samples, shape
        (npairs, nfilters, nlag).
    lags_s : np.ndarray
        Lag axis in s, shape (nlag,).
    pair_ids : list of (str, str)
        SEED ids of station 1 and 2 of each pair.
    filters : list of (float, float) or None
        The bands.
    """

    kind: str
    misfit: np.ndarray
    adjoint: np.ndarray
    lags_s: np.ndarray
    pair_ids: list[tuple[str, str]]
    filters: list[Band]

    @property
    def total(self) -> float:
        """Sum of the misfits over pairs and filters."""
        return float(self.misfit.sum())


def bandpass_response(
    freqs_hz: np.ndarray, band: Band, fs_hz: float, corners: int = 4
) -> np.ndarray:
    """Zero-phase response |B(f)|^2 of a Butterworth bandpass, shape (nfreq,); ones for None."""
    if band is None:
        return np.ones(np.shape(freqs_hz))
    fmin, fmax = band
    if not 0 < fmin < fmax < fs_hz / 2:
        raise ValueError(f"band ({fmin}, {fmax}) Hz must lie within (0, {fs_hz / 2}) Hz")
    return zero_phase_power(freqs_hz, fmin, fmax, fs_hz, corners)


def _filter_responses(
    nlag: int, fs_hz: float, filters: Sequence[Band], corners: int
) -> tuple[int, np.ndarray]:
    """Padded FFT length and filter responses, shape (nfilters, n_pad // 2 + 1)."""
    n_pad = next_power_of_two(2 * nlag)
    freqs = np.fft.rfftfreq(n_pad, d=1.0 / fs_hz)
    return n_pad, np.stack([bandpass_response(freqs, b, fs_hz, corners) for b in filters])


def apply_filters(
    traces: np.ndarray, fs_hz: float, filters: Sequence[Band], corners: int = 4
) -> np.ndarray:
    """Filter traces by each band (zero padded, in the frequency domain).

    Parameters
    ----------
    traces : np.ndarray
        Shape (..., nlag).
    fs_hz : float
        Sampling rate in Hz.
    filters : sequence of (fmin, fmax) or None
        Bands.
    corners : int
        Butterworth order.

    Returns
    -------
    np.ndarray
        Shape (..., nfilters, nlag).
    """
    nlag = traces.shape[-1]
    n_pad, response = _filter_responses(nlag, fs_hz, filters, corners)
    spec = np.fft.rfft(traces, n=n_pad, axis=-1)[..., None, :] * response
    return np.fft.irfft(spec, n=n_pad, axis=-1)[..., :nlag]


def _apply_matching_filters(
    traces: np.ndarray, fs_hz: float, filters: Sequence[Band], corners: int
) -> np.ndarray:
    """Filter ``traces[..., m, :]`` by band m (the adjoint of :func:`apply_filters`)."""
    nlag = traces.shape[-1]
    n_pad, response = _filter_responses(nlag, fs_hz, filters, corners)
    spec = np.fft.rfft(traces, n=n_pad, axis=-1) * response
    return np.fft.irfft(spec, n=n_pad, axis=-1)[..., :nlag]


def lag_windows(
    lags_s: np.ndarray,
    dist_m: np.ndarray,
    group_speed_mps: float,
    half_width_s: float,
    taper_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Causal and acausal windows around the surface-wave arrival.

    Parameters
    ----------
    lags_s : np.ndarray
        Lag axis, symmetric about zero, shape (nlag,).
    dist_m : np.ndarray
        Pair distances in metres, shape (npairs,).
    group_speed_mps, half_width_s, taper_s : float
        Window centre speed (m/s), flat half-width (s), flank length (s).

    Returns
    -------
    w_plus, w_minus : np.ndarray
        Shape (npairs, nlag); w_minus is w_plus reversed in lag.
    """
    lags = np.asarray(lags_s)[None, :]
    centre = np.asarray(dist_m, dtype=float)[:, None] / group_speed_mps
    offset = np.abs(lags - centre) - half_width_s
    if taper_s > 0:
        w = np.cos(0.5 * np.pi * np.clip(offset / taper_s, 0.0, 1.0)) ** 2
    else:
        w = (offset <= 0).astype(float)
    w_plus = np.where(lags > 0, w, 0.0)
    return w_plus, w_plus[:, ::-1]


_EMPTY_WINDOW = 1e-10


def _energy(c: np.ndarray, w: np.ndarray, dt: float) -> np.ndarray:
    return dt * np.sum((w * c) ** 2, axis=-1)


def _has_energy(energy: np.ndarray, c: np.ndarray, dt: float) -> np.ndarray:
    """Whether a window holds more than a negligible part of the trace's energy."""
    return energy > _EMPTY_WINDOW * dt * np.sum(c**2, axis=-1)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return num / np.where(den > 0, den, 1.0)


def misfit_and_adjoint(
    kind: str,
    synthetic: np.ndarray,
    observed: np.ndarray,
    w_plus: np.ndarray,
    w_minus: np.ndarray,
    dt: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Misfit and adjoint source for already filtered traces.

    Parameters
    ----------
    kind : str
        One of :data:`MEASUREMENTS`.
    synthetic, observed : np.ndarray
        Shape (..., nlag).
    w_plus, w_minus : np.ndarray
        Windows broadcastable to the traces.
    dt : float
        Lag sampling interval in s.

    Returns
    -------
    misfit : np.ndarray
        Shape (...,); zero where an energy measurement is undefined (empty window).
    adjoint : np.ndarray
        dJ/d synthetic, shape (..., nlag).
    """
    cs, co = synthetic, observed
    if kind == "full_waveform":
        r = cs - co
        return 0.5 * np.sum(r**2, axis=-1), r
    if kind == "windowed_waveform":
        win = w_plus + w_minus
        r = win * (cs - co)
        return 0.5 * np.sum(r**2, axis=-1), win * r
    if kind == "square_envelope":
        hs = np.imag(hilbert(cs, axis=-1))
        r = cs**2 + hs**2 - co**2 - np.imag(hilbert(co, axis=-1)) ** 2
        adj = 2.0 * r * cs - 2.0 * np.imag(hilbert(r * hs, axis=-1))
        return 0.5 * np.sum(r**2, axis=-1), adj
    ep_s, em_s = _energy(cs, w_plus, dt), _energy(cs, w_minus, dt)
    ep_o, em_o = _energy(co, w_plus, dt), _energy(co, w_minus, dt)
    if kind == "ln_energy_ratio":
        valid = (
            _has_energy(ep_s, cs, dt)
            & _has_energy(em_s, cs, dt)
            & _has_energy(ep_o, co, dt)
            & _has_energy(em_o, co, dt)
        )
        a_s = np.log(np.where(valid, _safe_divide(ep_s, em_s), 1.0))
        a_o = np.log(np.where(valid, _safe_divide(ep_o, em_o), 1.0))
        diff = np.where(valid, a_s - a_o, 0.0)
        grad = (
            2.0
            * dt
            * cs
            * (
                w_plus**2 * _safe_divide(1.0, ep_s)[..., None]
                - w_minus**2 * _safe_divide(1.0, em_s)[..., None]
            )
        )
        misfit, adjoint = 0.5 * diff**2, diff[..., None] * grad
    elif kind == "energy_diff":
        valid = _has_energy(ep_o, co, dt) & _has_energy(em_o, co, dt)
        fp = np.where(valid, _safe_divide(ep_s - ep_o, ep_o**2), 0.0)
        fm = np.where(valid, _safe_divide(em_s - em_o, em_o**2), 0.0)
        misfit = 0.5 * (fp * (ep_s - ep_o) + fm * (em_s - em_o))
        adjoint = 2.0 * dt * cs * (fp[..., None] * w_plus**2 + fm[..., None] * w_minus**2)
    else:
        raise ValueError(f"unknown measurement {kind!r}; use one of {MEASUREMENTS}")
    if not valid.all():
        logger.warning("%s: %d traces with an empty window are ignored", kind, int((~valid).sum()))
    return misfit, adjoint


def measure(
    synthetic: np.ndarray,
    observed: np.ndarray,
    lags_s: np.ndarray,
    dist_m: np.ndarray,
    config: MeasurementConfig,
    pair_ids: list[tuple[str, str]] | None = None,
    available: np.ndarray | None = None,
) -> Measurement:
    """Misfits and adjoint sources for all pairs and filters, vectorized.

    Parameters
    ----------
    synthetic, observed : np.ndarray
        Modelled and observed correlations on the same lag axis, shape (npairs, nlag).
    lags_s : np.ndarray
        Lag axis in s, shape (nlag,).
    dist_m : np.ndarray
        Pair distances in metres, shape (npairs,).
    config : MeasurementConfig
        Measurement, filters and windows.
    pair_ids : list of (str, str), optional
        Carried into the result.
    available : np.ndarray of bool, optional
        Pairs with observations, shape (npairs,); the others get zero misfit and adjoint.

    Returns
    -------
    Measurement
        Misfit (npairs, nfilters) and adjoint (npairs, nfilters, nlag).
    """
    synthetic = np.atleast_2d(np.asarray(synthetic, dtype=float))
    observed = np.atleast_2d(np.asarray(observed, dtype=float))
    if synthetic.shape != observed.shape or synthetic.shape[-1] != np.size(lags_s):
        raise ValueError(
            f"synthetic {synthetic.shape} and observed {observed.shape} must share the lag axis "
            f"of {np.size(lags_s)} samples"
        )
    dt = float(lags_s[1] - lags_s[0])
    fs = 1.0 / dt
    w_plus, w_minus = lag_windows(
        lags_s,
        np.broadcast_to(dist_m, synthetic.shape[:1]),
        config.group_speed_mps,
        config.half_width_s,
        config.taper_s,
    )
    cs = apply_filters(synthetic, fs, config.filters, config.corners)
    co = apply_filters(observed, fs, config.filters, config.corners)
    misfit, adj_filtered = misfit_and_adjoint(
        config.kind, cs, co, w_plus[:, None, :], w_minus[:, None, :], dt
    )
    adjoint = _apply_matching_filters(adj_filtered, fs, config.filters, config.corners)
    if available is not None:
        mask = np.asarray(available, dtype=bool)
        misfit = np.where(mask[:, None], misfit, 0.0)
        adjoint = np.where(mask[:, None, None], adjoint, 0.0)
    ids = pair_ids if pair_ids is not None else [("", "")] * synthetic.shape[0]
    return Measurement(config.kind, misfit, adjoint, np.asarray(lags_s), list(ids), config.filters)


def pair_distances(lat: np.ndarray, lon: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Geodesic distance of station pairs in metres, shape (npairs,).

    Parameters
    ----------
    lat, lon : np.ndarray
        Station coordinates in degrees, shape (nsta,).
    pairs : np.ndarray
        Station index pairs, shape (npairs, 2).
    """
    lat, lon, pairs = np.asarray(lat), np.asarray(lon), np.asarray(pairs)
    dist, _, _ = geodesic_inverse(
        lat[pairs[:, 0]], lon[pairs[:, 0]], lat[pairs[:, 1]], lon[pairs[:, 1]]
    )
    return dist


def align_observed(
    traces: Sequence[CorrelationTrace], pair_ids: Sequence[tuple[str, str]], lags_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Observed correlations on the model's pairs and lag axis.

    A trace stored for the pair in reversed station order is reversed in lag
    (c_21(tau) = c_12(-tau)). The sampling interval must equal the model's;
    the trace is cut to the model's lags around its zero lag.

    Parameters
    ----------
    traces : sequence of CorrelationTrace
        Observed correlations (from :func:`seismake.noisi.sacio.read_correlation_sac`).
    pair_ids : sequence of (str, str)
        Model pairs.
    lags_s : np.ndarray
        Model lag axis, symmetric about zero, shape (nlag,).

    Returns
    -------
    observed : np.ndarray
        Shape (npairs, nlag); zeros for pairs without data.
    available : np.ndarray of bool
        Shape (npairs,).
    """
    lags_s = np.asarray(lags_s)
    dt = float(lags_s[1] - lags_s[0])
    n_half = (lags_s.size - 1) // 2
    by_pair = {}
    for tr in traces:
        by_pair[(tr.station1, tr.station2)] = (tr, False)
        by_pair.setdefault((tr.station2, tr.station1), (tr, True))
    observed = np.zeros((len(pair_ids), lags_s.size))
    available = np.zeros(len(pair_ids), dtype=bool)
    for p, ids in enumerate(pair_ids):
        if ids not in by_pair:
            continue
        tr, reverse = by_pair[ids]
        name = f"{tr.station1}--{tr.station2}"
        if not np.isclose(tr.delta_s, dt, rtol=1e-5):
            raise ValueError(
                f"{name}: sampling interval {tr.delta_s} s differs from the model's {dt} s"
            )
        zero = round(-tr.begin_s / tr.delta_s)
        if zero - n_half < 0 or zero + n_half >= tr.data.size:
            raise ValueError(
                f"{name}: observed lags {tr.begin_s} .. {tr.lags_s[-1]} s do not cover "
                f"the model's +-{lags_s[-1]} s"
            )
        data = tr.data[zero - n_half : zero + n_half + 1]
        observed[p] = data[::-1] if reverse else data
        available[p] = True
    missing = int((~available).sum())
    if missing:
        logger.warning("%d of %d pairs have no observed correlation", missing, len(pair_ids))
    return observed, available


def write_measurement(path: str | Path, measurement: Measurement) -> None:
    """Write misfits and adjoint sources to HDF5 (the input of the kernel step), atomically."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("misfit", data=measurement.misfit)
        f.create_dataset("adjoint", data=measurement.adjoint)
        f.create_dataset("lags", data=measurement.lags_s)
        f.create_dataset(
            "pair_ids", data=np.array([list(p) for p in measurement.pair_ids], dtype="S")
        )
        bands = np.array([b if b is not None else (np.nan, np.nan) for b in measurement.filters])
        f.create_dataset("filters", data=bands.reshape(-1, 2))
        f.attrs["kind"] = measurement.kind
        f.attrs["total_misfit"] = measurement.total


def read_measurement(path: str | Path) -> Measurement:
    """Read a measurement written by :func:`write_measurement`."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [k for k in ("misfit", "adjoint", "lags", "pair_ids", "filters") if k not in f]
        if missing:
            raise ValueError(f"{path}: missing dataset(s) {', '.join(missing)}")
        pair_ids = [(a.decode(), b.decode()) for a, b in f["pair_ids"][()]]
        filters: list[Band] = [
            None if np.isnan(lo) else (float(lo), float(hi)) for lo, hi in f["filters"][()]
        ]
        return Measurement(
            kind=str(f.attrs["kind"]),
            misfit=f["misfit"][()],
            adjoint=f["adjoint"][()],
            lags_s=f["lags"][()],
            pair_ids=pair_ids,
            filters=filters,
        )
