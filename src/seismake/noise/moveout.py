"""Record sections of the stacks: one component of every pair by distance, band-passed.

The envelope (modulus of the analytic signal) of each band-passed stack is
picked on each side: the lag of its largest value on the causal (positive)
and the acausal (negative) lags, the apparent velocity distance / lag, and
the peak over the median envelope of that side as a signal-to-noise ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.signal

from seismake.filters import bandpass
from seismake.noise.preprocess import taper_window
from seismake.noise.stack import RTZ_COMPONENTS, PairStacks

PICK_COLUMNS = [
    "station1",
    "station2",
    "distance_km",
    "causal_lag_s",
    "acausal_lag_s",
    "causal_velocity_km_s",
    "acausal_velocity_km_s",
    "causal_snr",
    "acausal_snr",
]


@dataclass
class RecordSection:
    """One component of the stacks of many pairs, sorted by distance.

    Attributes
    ----------
    component : str
        Combination, e.g. ``"ZZ"`` (ENZ) or ``"TT"`` (RTZ).
    method : str
        Stack method.
    station1, station2 : numpy.ndarray
        (n_pair,) str ``NET.STA.LOC``.
    distance_km : numpy.ndarray
        (n_pair,) float64, increasing.
    lags_s : numpy.ndarray
        (n_lag,) float64.
    data : numpy.ndarray
        (n_pair, n_lag) float64 stacks (unfiltered).
    """

    component: str
    method: str
    station1: np.ndarray
    station2: np.ndarray
    distance_km: np.ndarray
    lags_s: np.ndarray
    data: np.ndarray

    @property
    def sampling_rate(self) -> float:
        """Hz."""
        return float(1.0 / np.median(np.diff(self.lags_s)))


def record_section(stacks: Sequence[PairStacks], component: str, method: str) -> RecordSection:
    """Collect one component of one stack method from chunks of pairs.

    Pairs without data in that component (all zeros) or without coordinates are left out.

    Parameters
    ----------
    stacks : sequence of PairStacks
        Stack chunks (same lag axis).
    component : str
        An ENZ combination of the stacks or, with rotation, one of
        :data:`seismake.noise.stack.RTZ_COMPONENTS`.
    method : str
        A stack method computed.

    Returns
    -------
    RecordSection

    Raises
    ------
    ValueError
        When the component or method is not in the stacks, or the lag axes differ.
    """
    s1, s2, dist, rows = [], [], [], []
    lags = None
    for chunk in stacks:
        if lags is None:
            lags = chunk.lags_s
        elif not np.array_equal(lags, chunk.lags_s):
            raise ValueError("record_section: the stack chunks have different lag axes")
        if component in chunk.components:
            values = chunk.stacks.get(method)
            index = chunk.components.index(component)
        elif component in RTZ_COMPONENTS:
            values = chunk.rtz.get(method)
            index = RTZ_COMPONENTS.index(component)
        else:
            raise ValueError(
                f"component {component!r} is neither in the stacks {chunk.components} nor "
                f"one of the rotated {RTZ_COMPONENTS}"
            )
        if values is None:
            available = sorted(chunk.rtz if component in RTZ_COMPONENTS else chunk.stacks)
            raise ValueError(
                f"stack method {method!r} of component {component} not in the stacks "
                f"(available: {available or 'none; rotation is off'})"
            )
        for p in range(chunk.n_pair):
            trace = values[p, index]
            if np.isfinite(chunk.distance_km[p]) and np.any(trace != 0):
                s1.append(chunk.station1[p])
                s2.append(chunk.station2[p])
                dist.append(chunk.distance_km[p])
                rows.append(trace.astype(np.float64))
    if lags is None:
        raise ValueError("record_section: no stack chunk given")
    order = np.argsort(dist, kind="stable")
    return RecordSection(
        component=component,
        method=method,
        station1=np.array(s1, dtype=str)[order],
        station2=np.array(s2, dtype=str)[order],
        distance_km=np.array(dist, dtype=np.float64)[order],
        lags_s=lags,
        data=np.array(rows, dtype=np.float64).reshape(len(rows), lags.size)[order],
    )


def filtered(section: RecordSection, freqmin: float, freqmax: float) -> np.ndarray:
    """Band-passed traces (Hann taper of 5 % at the lag ends, zero-phase Butterworth).

    Returns
    -------
    numpy.ndarray
        (n_pair, n_lag) float64.
    """
    fs = section.sampling_rate
    if section.data.shape[0] == 0:
        return section.data.copy()
    taper = taper_window(section.lags_s.size, fs)
    return bandpass(section.data * taper, freqmin, freqmax, fs)


def envelope(traces: np.ndarray) -> np.ndarray:
    """Modulus of the analytic signal along the last axis; same shape."""
    if traces.shape[-1] == 0 or traces.size == 0:
        return np.abs(traces)
    return np.abs(scipy.signal.hilbert(traces, axis=-1))


def envelope_picks(section: RecordSection, freqmin: float, freqmax: float) -> pd.DataFrame:
    """Envelope peak of each side of every band-passed trace.

    Parameters
    ----------
    section : RecordSection
        The traces.
    freqmin, freqmax : float
        Pass band in Hz.

    Returns
    -------
    pandas.DataFrame
        One row per pair, columns :data:`PICK_COLUMNS`: lags in s (both positive),
        apparent velocities in km/s, peak over median envelope of the side.
    """
    env = envelope(filtered(section, freqmin, freqmax))
    lags = section.lags_s
    out = {
        "station1": section.station1,
        "station2": section.station2,
        "distance_km": section.distance_km,
    }
    for side, mask in (("causal", lags > 0), ("acausal", lags < 0)):
        values = env[:, mask]
        if values.shape[0] == 0:
            out[f"{side}_lag_s"] = np.zeros(0)
            out[f"{side}_velocity_km_s"] = np.zeros(0)
            out[f"{side}_snr"] = np.zeros(0)
            continue
        peak = np.argmax(values, axis=1)
        lag = np.abs(lags[mask][peak])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{side}_lag_s"] = lag
            out[f"{side}_velocity_km_s"] = np.where(lag > 0, section.distance_km / lag, np.nan)
            median = np.median(values, axis=1)
            out[f"{side}_snr"] = np.where(median > 0, values.max(axis=1) / median, np.nan)
    return pd.DataFrame(out, columns=PICK_COLUMNS)
