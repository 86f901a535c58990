"""What the report shows of an inversion: summary numbers, the pairs shown, figures.

The misfit reduction compares the starting and the final model under the last
stage's measurement (all its filters), so stages with different filters do not
mix; the recovered model is compared with a target (synthetic data) or the truth
(the demo) by the Pearson correlation of the weights over the grid.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from seismake.noisi.forward import correlate
from seismake.noisi.grid import SourceGrid
from seismake.noisi.iteration import IterationStatus, MisfitRecord
from seismake.noisi.measure import MeasurementConfig, apply_filters
from seismake.noisi.optimize import InversionProblem, evaluate
from seismake.noisi.sources import SourceModel, model_from_points
from seismake.noisi.stations import Receiver
from seismake.plot.noisi import (
    plot_kernels,
    plot_message,
    plot_misfit_history,
    plot_source_maps,
    plot_waveform_fits,
)

logger = logging.getLogger(__name__)


def misfit_history(
    statuses: Sequence[IterationStatus], records: dict[int, MisfitRecord]
) -> dict[int, list[tuple[int, float]]]:
    """Misfit per stage: stage -> [(iteration, misfit)] of the measured iterations, ending
    with the misfit (under the stage's measurement, from the line search) of the model
    that the stage's last update produced when that model was not measured in the stage."""
    history: dict[int, list[tuple[int, float]]] = {}
    for iteration in sorted(records):
        rec = records[iteration]
        history.setdefault(rec.stage, []).append((iteration, rec.total))
    for status in statuses:
        producer = records.get(status.iteration - 1)
        own = records.get(status.iteration)
        if "misfit_after" not in status.step or producer is None:
            continue
        if own is None or own.stage != producer.stage:
            history[producer.stage].append((status.iteration, status.step["misfit_after"]))
    return {stage: sorted(values) for stage, values in sorted(history.items())}


def model_correlation(recovered: SourceModel, target: SourceModel) -> float:
    """Pearson correlation of two models' weights over grid points and basis functions;
    NaN when either model is uniform."""
    if recovered.model.shape != target.model.shape:
        raise ValueError(
            f"models differ in shape: {recovered.model.shape} and {target.model.shape}"
        )
    a, b = recovered.model.ravel(), target.model.ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def summarize(
    statuses: Sequence[IterationStatus],
    records: dict[int, MisfitRecord],
    problem: InversionProblem,
    start: SourceModel,
    final: SourceModel,
    config: MeasurementConfig,
    target: SourceModel | None = None,
) -> dict:
    """Outcome of an inversion.

    Parameters
    ----------
    statuses : sequence of IterationStatus
        Status of every iteration 0..n (n the number of iterations).
    records : dict of int to MisfitRecord
        Misfit records of the iterations that ran.
    problem : InversionProblem or None
        Observations and Green's functions; None when there were no observations
        (the misfits are then None).
    start, final : SourceModel
        Starting and final model.
    config : MeasurementConfig
        The last stage's measurement.
    target : SourceModel, optional
        Model to compare the final one with.

    Returns
    -------
    dict
        ``iterations`` (requested), ``iterations_used`` (accepted model updates),
        ``iterations_run`` (iterations that computed kernels), ``pairs_measured``,
        ``misfit_start``, ``misfit_final``, ``misfit_reduction`` (1 - final / start),
        ``correlation_with_target`` (None without a target or for a uniform model),
        ``recovered_range``, ``stages`` (misfit history per stage) and ``notes`` (what
        each iteration did).
    """
    j0 = j1 = reduction = None
    pairs = 0
    if problem is not None:
        j0 = evaluate(problem, start, config, with_gradient=False)[0].total
        j1 = evaluate(problem, final, config, with_gradient=False)[0].total
        reduction = 1.0 - j1 / j0 if j0 > 0 else 0.0
        available = problem.available
        pairs = len(problem.pairs) if available is None else int(np.count_nonzero(available))
    correlation = None if target is None else model_correlation(final, target)
    history = misfit_history(statuses, records)
    summary = {
        "iterations": len(statuses) - 1,
        "iterations_used": sum(1 for s in statuses if "misfit_after" in s.step),
        "iterations_run": len(records),
        "measurement": config.kind,
        "filters_hz": [None if b is None else list(b) for b in config.filters],
        "pairs_measured": pairs,
        "misfit_start": j0,
        "misfit_final": j1,
        "misfit_reduction": reduction,
        "correlation_with_target": None
        if correlation is None or np.isnan(correlation)
        else correlation,
        "recovered_range": [float(final.model.min()), float(final.model.max())],
        "stages": {str(k + 1): v for k, v in history.items()},
        "notes": {str(s.iteration): s.note for s in statuses},
    }
    logger.info(
        "misfit %s -> %s (reduction %s), %d model updates, correlation with target %s",
        j0,
        j1,
        reduction,
        summary["iterations_used"],
        summary["correlation_with_target"],
    )
    return summary


def misfit_figure(history: dict[int, list[tuple[int, float]]]) -> Figure:
    """Misfit per iteration, one curve per stage, relative to the stage's first value."""
    if not history:
        return plot_message("no iteration ran (no observed correlations)")
    labels = {stage: f"stage {stage + 1}" for stage in history}
    return plot_misfit_history(
        {labels[stage]: [m for _, m in values] for stage, values in history.items()},
        iterations={labels[stage]: [i for i, _ in values] for stage, values in history.items()},
    )


def choose_pairs(dist_m: np.ndarray, available: np.ndarray | None, n: int) -> np.ndarray:
    """Indices of ``n`` pairs with observations at evenly spaced ranks of distance
    (the shortest and the longest included), shape (min(n, navailable),)."""
    candidates = np.flatnonzero(np.ones(len(dist_m), bool) if available is None else available)
    order = candidates[np.argsort(np.asarray(dist_m)[candidates], kind="stable")]
    if n >= order.size:
        return order
    return order[np.unique(np.round(np.linspace(0, order.size - 1, n)).astype(int))]


def inversion_figures(
    problem: InversionProblem | None,
    receivers: Sequence[Receiver],
    start: SourceModel,
    final: SourceModel,
    kernels: np.ndarray | None,
    kernel_pair_ids: Sequence[tuple[str, str]],
    n_pairs: int = 2,
    target: SourceModel | None = None,
    markers: Sequence[tuple[float, float]] = (),
    synthetic: bool = True,
    config: MeasurementConfig | None = None,
) -> dict[str, Figure]:
    """Source maps, kernels and waveform fits of an inversion.

    Parameters
    ----------
    problem : InversionProblem or None
        Observations and Green's functions; None without observations (the kernel
        and waveform figures then say so).
    receivers : sequence of Receiver
        Receiver coordinates (drawn on the maps).
    start, final : SourceModel
        Starting and recovered model.
    kernels : np.ndarray or None
        Kernels of the first iteration, shape (npairs, nbasis, nfilters, ntraces).
    kernel_pair_ids : sequence of (str, str)
        Pair ids of ``kernels``.
    n_pairs : int
        Number of pairs shown (kernels and waveforms).
    target : SourceModel, optional
        Target or true model (a map panel; its noise-free correlations in the fits).
    markers : sequence of (lon, lat)
        Points marked on the maps (e.g. centres of target blobs).
    synthetic : bool
        The observations are the target's correlations plus noise: its correlations
        are drawn as noise-free data (else as those of the true sources).
    config : MeasurementConfig, optional
        The last stage's measurement: the waveforms are filtered in the band spanning
        its filters, and each trace is scaled to unit peak when the measurement does
        not depend on amplitude (``ln_energy_ratio``).

    Returns
    -------
    dict of str to Figure
        ``maps``, ``kernels`` and ``waveforms``.
    """
    coords = {r.seed_id: (r.station.longitude, r.station.latitude) for r in receivers}
    maps = {} if target is None else {"target": target.model[:, 0]}
    maps |= {"start": start.model[:, 0], "recovered": final.model[:, 0]}
    figures = {
        "maps": plot_source_maps(start.lon, start.lat, maps, list(coords.values()), list(markers))
    }
    if problem is None or kernels is None:
        figures["kernels"] = plot_message("no observed correlations: no kernels")
        figures["waveforms"] = plot_message("no observed correlations")
        return figures
    greens = problem.greens
    ids = greens.station_ids

    chosen = choose_pairs(problem.dist_m, problem.available, n_pairs)
    pair_ids = [(ids[i], ids[j]) for i, j in problem.pairs[chosen]]
    labels = [
        f"{a} - {b} ({problem.dist_m[c] / 1e3:.0f} km)"
        for (a, b), c in zip(pair_ids, chosen, strict=True)
    ]
    rows = {pid: k for k, pid in enumerate(kernel_pair_ids)}
    shown = [p for p in pair_ids if p in rows]
    figures["kernels"] = plot_kernels(
        greens.lon,
        greens.lat,
        {f"{a} - {b}": kernels[rows[(a, b)], 0].sum(axis=0) for a, b in shown},
        [(coords[a], coords[b]) for a, b in shown],
    )
    pairs = problem.pairs[chosen]
    modelled = {
        "start": correlate(greens, start, pairs, problem.max_lag_s).data,
        "recovered": correlate(greens, final, pairs, problem.max_lag_s).data,
    }
    noise_free = None
    if target is not None:
        target_data = correlate(greens, target, pairs, problem.max_lag_s).data
        if synthetic:
            noise_free = target_data
        else:
            modelled = {"true sources": target_data, **modelled}
    observed = problem.observed[chosen]
    if config is not None:
        bands = [b for b in config.filters if b is not None]
        band = [(min(b[0] for b in bands), max(b[1] for b in bands))] if bands else [None]

        def shown_as(data: np.ndarray) -> np.ndarray:
            data = apply_filters(data, greens.fs_hz, band, config.corners)[:, 0]
            if config.kind == "ln_energy_ratio":
                data = data / np.abs(data).max(axis=1, keepdims=True)
            return data

        observed = shown_as(observed)
        modelled = {k: shown_as(v) for k, v in modelled.items()}
        noise_free = None if noise_free is None else shown_as(noise_free)
    lags = np.arange(observed.shape[1]) / greens.fs_hz
    lags -= lags[-1] / 2.0
    figures["waveforms"] = plot_waveform_fits(lags, observed, modelled, labels, noise_free)
    return figures


def truth_model(
    grid: SourceGrid,
    frequencies_hz: np.ndarray,
    sources_csv: str | Path,
    model_json: str | Path,
    mean_hz: float,
    std_hz: float,
) -> tuple[SourceModel, list[tuple[float, float]]]:
    """The demo archive's true noise sources on the grid, and the centres of its blobs.

    Parameters
    ----------
    grid : SourceGrid
        Source grid of the inversion.
    frequencies_hz : np.ndarray
        Frequency axis of the Green's functions.
    sources_csv : path
        ``truth/noise_sources.csv`` (columns latitude, longitude, weight, area_m2).
    model_json : path
        ``truth/model.json`` (blob centres under ambient_noise.source_distribution).
    mean_hz, std_hz : float
        Spectrum of the model's basis function.

    Returns
    -------
    model : SourceModel
        Weights interpolated to the grid (:func:`seismake.noisi.sources.model_from_points`).
    markers : list of (lon, lat)
        Blob centres.
    """
    table = pd.read_csv(sources_csv)
    missing = [c for c in ("latitude", "longitude", "weight") if c not in table]
    if missing:
        raise ValueError(f"{sources_csv}: missing column(s) {', '.join(missing)}")
    model = model_from_points(
        grid,
        frequencies_hz,
        table.longitude.to_numpy(),
        table.latitude.to_numpy(),
        table.weight.to_numpy(),
        mean_hz,
        std_hz,
    )
    try:
        blobs = json.loads(Path(model_json).read_text())["ambient_noise"]["source_distribution"]
        markers = [(float(b["longitude"]), float(b["latitude"])) for b in blobs["blobs"]]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(
            f"{model_json}: no blob list in ambient_noise.source_distribution"
        ) from exc
    return model, markers
