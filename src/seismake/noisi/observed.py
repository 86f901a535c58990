"""Observed correlations of an inversion: measured stacks or synthetic data.

Two sources of "observed" data feed the measurements:

- stacks of measured noise (for example the noise branch's SAC output with the
  Appendix A headers): the correlations of one component are selected and brought
  onto the model's lag axis by band-limited interpolation (:func:`resample_traces`);
  the receivers of the inversion are those of the selected stacks;
- synthetic data: the correlations of a target source model plus white Gaussian
  noise, seeded (:func:`synthetic_observations`).

Either way the result is a directory of SAC files, one per pair, that
:func:`read_correlation_directory` reads back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from seismake.noisi.forward import (
    CorrelationSet,
    GreensSpectra,
    add_gaussian_noise,
    correlate,
    correlation_traces,
)
from seismake.noisi.greens import next_power_of_two
from seismake.noisi.sacio import (
    CorrelationTrace,
    correlation_filename,
    read_correlation_sac,
    write_correlation_sac,
)
from seismake.noisi.sources import SourceModel
from seismake.noisi.stations import Receiver, Station

logger = logging.getLogger(__name__)

#: the anti-alias taper of :func:`resample_traces` starts at this fraction of the new Nyquist
ANTIALIAS_START = 0.8


def read_correlation_directory(directory: str | Path, observed: bool = True) -> list:
    """Read every ``*.sac`` correlation of a directory, in name order.

    Parameters
    ----------
    directory : str or Path
        Directory of Appendix A SAC files.
    observed : bool
        Divide by ``user0`` (see :func:`seismake.noisi.sacio.read_correlation_sac`).

    Returns
    -------
    list of CorrelationTrace

    Raises
    ------
    FileNotFoundError
        When the directory holds no SAC file.
    seismake.noisi.sacio.CorrelationFileError
        Naming the file whose headers are missing or invalid.
    """
    paths = sorted(Path(directory).glob("*.sac"))
    if not paths:
        raise FileNotFoundError(f"{directory}: no correlation SAC file (*.sac)")
    return [read_correlation_sac(p, observed=observed) for p in paths]


def read_stack_directories(directories: Sequence[str | Path]) -> list[CorrelationTrace]:
    """Observed stacks of several directories (e.g. one per chunk of pairs), divided by
    ``user0``; an empty list (logged as a warning) when no directory holds a SAC file,
    e.g. when the days were too short for one correlation window."""
    paths = sorted(p for d in directories for p in Path(d).glob("*.sac"))
    if not paths:
        logger.warning("no correlation SAC file (*.sac) in %s", ", ".join(map(str, directories)))
    logger.info("reading %d stacks from %d directories", len(paths), len(directories))
    return [read_correlation_sac(p, observed=True) for p in paths]


def write_correlation_directory(directory: str | Path, traces: Sequence[CorrelationTrace]) -> None:
    """Write one SAC file per trace into ``directory`` (which must exist), named by the pair."""
    for trace in traces:
        write_correlation_sac(
            Path(directory) / correlation_filename(trace.station1, trace.station2), trace
        )
    logger.info("wrote %d correlations to %s", len(traces), directory)


def select_component(
    traces: Sequence[CorrelationTrace], component: str, autocorrelations: bool = False
) -> list[CorrelationTrace]:
    """Correlations whose two channels both end with ``component`` (e.g. ``Z`` for ZZ).

    Parameters
    ----------
    traces : sequence of CorrelationTrace
        Any components.
    component : str
        Last letter of the channel codes to keep.
    autocorrelations : bool
        Keep correlations of a channel with itself.
    """
    kept = [
        tr
        for tr in traces
        if tr.station1.endswith(component)
        and tr.station2.endswith(component)
        and (autocorrelations or tr.station1 != tr.station2)
    ]
    logger.info("%d of %d correlations are %s%s", len(kept), len(traces), component, component)
    return kept


def receivers_from_traces(traces: Sequence[CorrelationTrace]) -> list[Receiver]:
    """The receiver channels of a set of correlations, sorted by SEED id.

    Raises
    ------
    ValueError
        When the same channel appears with coordinates differing by more than 1e-4 degrees.
    """
    found: dict[str, tuple[float, float]] = {}
    for tr in traces:
        for seed_id, lat, lon in ((tr.station1, tr.lat1, tr.lon1), (tr.station2, tr.lat2, tr.lon2)):
            known = found.setdefault(seed_id, (lat, lon))
            if not np.allclose(known, (lat, lon), atol=1e-4):
                raise ValueError(
                    f"{tr.station1}--{tr.station2}: {seed_id} at ({lat}, {lon}) but at "
                    f"{known} in another correlation"
                )
    receivers = []
    for seed_id in sorted(found):
        net, sta, loc, cha = seed_id.split(".")
        lat, lon = found[seed_id]
        receivers.append(Receiver(Station(net, sta, lat, lon), cha, loc))
    return receivers


def resample_traces(
    traces: Sequence[CorrelationTrace], fs_hz: float, max_lag_s: float
) -> list[CorrelationTrace]:
    """Bring correlations onto the lag axis -L..L / fs_hz of the model.

    Band-limited interpolation: each trace's spectrum (zero padded to at least
    twice its length) is tapered to zero at the new Nyquist frequency by a cosine
    starting at :data:`ANTIALIAS_START` of it, and its Fourier series is evaluated
    at the new lags. Traces sharing a lag axis are processed as one batch.

    Parameters
    ----------
    traces : sequence of CorrelationTrace
        Correlations at any sampling interval; ``data`` as read (already divided by
        ``user0`` for observed stacks).
    fs_hz : float
        Sampling rate of the model in Hz.
    max_lag_s : float
        Largest lag of the model in s; L = round(max_lag_s * fs_hz).

    Returns
    -------
    list of CorrelationTrace
        Same metadata, ``delta_s`` = 1 / fs_hz, ``begin_s`` = -L / fs_hz; ``data`` is
        multiplied by ``n_stacked`` again so that reading the written SAC file with
        ``observed=True`` gives the resampled mean.

    Raises
    ------
    ValueError
        Naming the pair whose lags do not cover +-max_lag_s.
    """
    n_half = round(max_lag_s * fs_hz)
    lags = np.arange(-n_half, n_half + 1) / fs_hz
    groups: dict[tuple[float, float, int], list[int]] = {}
    for index, tr in enumerate(traces):
        if tr.begin_s > lags[0] + 1e-9 or tr.lags_s[-1] < lags[-1] - 1e-9:
            raise ValueError(
                f"{tr.station1}--{tr.station2}: lags {tr.begin_s} .. {tr.lags_s[-1]} s do not "
                f"cover +-{lags[-1]} s"
            )
        groups.setdefault((tr.delta_s, tr.begin_s, tr.data.size), []).append(index)
    out: list[CorrelationTrace | None] = [None] * len(traces)
    for (delta, begin, npts), members in groups.items():
        data = np.stack([traces[i].data for i in members])
        n_fft = next_power_of_two(2 * npts)
        freqs = np.fft.rfftfreq(n_fft, d=delta)
        nyquist = 0.5 * fs_hz
        keep = freqs < nyquist
        spec = np.fft.rfft(data, n=n_fft, axis=1)[:, keep]
        f = freqs[keep]
        start = ANTIALIAS_START * nyquist
        taper = np.cos(0.5 * np.pi * np.clip((f - start) / (nyquist - start), 0.0, 1.0)) ** 2
        weights = np.where(f == 0.0, 1.0, 2.0) * taper / n_fft
        phase = np.exp(2j * np.pi * np.outer(f, lags - begin))
        resampled = np.real((spec * weights) @ phase)
        for i, row in zip(members, resampled, strict=True):
            tr = traces[i]
            out[i] = replace(tr, data=row * tr.n_stacked, delta_s=1.0 / fs_hz, begin_s=lags[0])
    logger.info("resampled %d correlations to %g Hz, lags +-%g s", len(traces), fs_hz, lags[-1])
    return out


def synthetic_observations(
    greens: GreensSpectra,
    target: SourceModel,
    pairs: np.ndarray,
    max_lag_s: float,
    noise_level: float,
    seed: int,
) -> tuple[CorrelationSet, CorrelationSet]:
    """Correlations of a target model, and the same plus seeded Gaussian noise.

    Parameters
    ----------
    greens : GreensSpectra
        Green's functions of the receivers.
    target : SourceModel
        The model to recover.
    pairs : np.ndarray
        Station index pairs, shape (npairs, 2).
    max_lag_s : float
        Largest lag in s.
    noise_level : float
        Noise standard deviation relative to the mean RMS of the traces (0.05: 5 %).
    seed : int
        Seed of the noise.

    Returns
    -------
    noise_free, noisy : CorrelationSet
    """
    clean = correlate(greens, target, pairs, max_lag_s)
    noisy = add_gaussian_noise(clean.data, noise_level, np.random.default_rng(seed))
    logger.info(
        "synthetic data: %d pairs, %.1f %% noise, seed %d", len(pairs), 100 * noise_level, seed
    )
    return clean, replace(clean, data=noisy)


def correlation_set_traces(
    correlations: CorrelationSet, receivers: Sequence[Receiver]
) -> list[CorrelationTrace]:
    """Appendix A records of a correlation set, with coordinates from the receivers."""
    coordinates = {r.seed_id: (r.station.latitude, r.station.longitude) for r in receivers}
    return correlation_traces(correlations, coordinates)
