"""Inversion iterations as separate jobs: schedule, iteration records and the steps.

The workflow runs every step of :func:`seismake.noisi.optimize.invert` as its own
job and keeps nothing in memory between them. Iteration ``i`` has the files
``iter/{i}/model.h5`` and ``status.json`` (how the model was made and whether the
iteration runs), ``correlations.h5``, ``measurement.h5`` and ``misfit.json``,
``kernels.h5``, ``gradient.h5`` and ``lbfgs.h5`` (the L-BFGS state with the search
direction), ``trial/{k}/misfit.json``; the update writes ``model.h5`` and
``status.json`` of iteration ``i + 1``.

Decisions that the in-memory loop takes implicitly are explicit here:

- **Schedule.** Stage ``s`` covers ``iterations`` consecutive iterations; iterations
  beyond the schedule belong to the last stage. A stage has its own filters and
  smoothing length and starts with an empty L-BFGS history. So the stage of an
  iteration depends on the schedule only, and raising the number of iterations
  leaves every earlier iteration as it was.
- **Stop on minimal improvement.** When the relative misfit decrease from the
  previous iteration of the same stage is below ``min_improvement``, the stage
  stops: the remaining iterations of the stage are no-ops that copy the model
  (their status says so); the next stage starts as scheduled.
- **No decrease.** When neither the trial steps nor the quadratic fit decrease
  the misfit, the model is kept and the next iteration restarts from steepest
  descent (L-BFGS history reset); if the failed direction already was steepest
  descent, the reference step shrinks by 10. After ``max_shrink`` shrinks the
  stage stops. This is the sequence of attempts of the in-memory loop, spread
  over iterations and written in the status.
- **No observations.** Without any receiver (e.g. stacks of days too short for one
  correlation window) the inversion ends at iteration 0 and every iteration copies
  the starting model, saying why.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from seismake.fileio import atomic_output
from seismake.noisi.forward import (
    CorrelationSet,
    lag_samples,
    stack_greens,
    station_pairs,
)
from seismake.noisi.greens import Wavefield
from seismake.noisi.measure import (
    Band,
    Measurement,
    MeasurementConfig,
    align_observed,
    measure,
    pair_distances,
)
from seismake.noisi.optimize import (
    InversionProblem,
    LBFGSState,
    assemble_gradient,
    choose_step,
    evaluate,
    prepare_step,
    smooth_on_sphere,
    step_model,
)
from seismake.noisi.sacio import CorrelationTrace
from seismake.noisi.sources import SourceModel
from seismake.noisi.stations import Receiver

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """One stage of the schedule.

    Attributes
    ----------
    filters : list of (fmin_hz, fmax_hz)
        Bandpass filters; the measurement is taken in each.
    smoothing_m : float
        Gaussian smoothing length of the gradient in metres.
    iterations : int
        Number of iterations of the stage.
    """

    filters: list[Band]
    smoothing_m: float
    iterations: int

    @classmethod
    def from_dict(cls, values: dict) -> Stage:
        """From a config entry ``{filters: [[fmin, fmax], ...], smoothing_m, iterations}``."""
        filters = [None if b is None else (float(b[0]), float(b[1])) for b in values["filters"]]
        return cls(filters, float(values["smoothing_m"]), int(values["iterations"]))


def stage_of(iteration: int, iterations_per_stage: Sequence[int]) -> int:
    """Index of the stage that iteration ``iteration`` (0-based) belongs to.

    Iterations beyond the schedule belong to the last stage.
    """
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")
    if not iterations_per_stage:
        raise ValueError("the schedule needs at least one stage")
    ends = np.cumsum(iterations_per_stage)
    return int(min(np.searchsorted(ends, iteration, side="right"), len(ends) - 1))


def measurement_config(measurement: dict, stage: Stage) -> MeasurementConfig:
    """Measurement of a stage: ``measurement`` (kind, corners, windows) with its filters."""
    return MeasurementConfig(filters=list(stage.filters), **measurement)


@dataclass
class IterationStatus:
    """How the model of an iteration was made and whether the iteration runs.

    Attributes
    ----------
    iteration : int
        Iteration index.
    stage : int
        Stage index of the iteration (0-based; notes count stages from 1).
    active : bool
        False when the stage has stopped: the iteration copies its model.
    restart : bool
        Start a fresh L-BFGS history (steepest descent) at this iteration.
    step_scale : float
        Factor on the reference step of the trial steps.
    shrinks : int
        How often the reference step has shrunk since the last accepted step.
    note : str
        What happened, in words.
    stopped : str
        Why the stage stopped (empty while it runs).
    ended : bool
        The whole inversion has ended (no observations): no later stage restarts it.
    step : dict
        The line search that produced the model: trial steps and misfits, the
        chosen step, method and misfits before and after (empty for a copy).
    """

    iteration: int
    stage: int
    active: bool
    restart: bool
    step_scale: float = 1.0
    shrinks: int = 0
    note: str = ""
    stopped: str = ""
    ended: bool = False
    step: dict = field(default_factory=dict)


@dataclass
class MisfitRecord:
    """Misfit of an iteration's model and the convergence test.

    Attributes
    ----------
    iteration, stage : int
        Iteration and stage index.
    kind : str
        Measurement.
    total : float
        Misfit summed over pairs and filters.
    per_filter : list of float
        Misfit per filter.
    pairs_measured : int
        Pairs with observations.
    improvement : float or None
        Relative decrease from the previous iteration of the stage (None at a
        restart or at the first iteration of a stage).
    converged : bool
        ``improvement`` is below the threshold: the stage stops.
    """

    iteration: int
    stage: int
    kind: str
    total: float
    per_filter: list[float]
    pairs_measured: int
    improvement: float | None
    converged: bool


def _write_json(path: str | Path, values: dict) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(values, indent=1) + "\n")


def _read_json(path: str | Path, cls: type, what: str):
    path = Path(path)
    try:
        values = json.loads(path.read_text())
        return cls(**values)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a valid {what} ({exc})") from exc


def write_status(path: str | Path, status: IterationStatus) -> None:
    """Write an iteration status as JSON, atomically."""
    _write_json(path, asdict(status))


def read_status(path: str | Path) -> IterationStatus:
    """Read an iteration status written by :func:`write_status`."""
    return _read_json(path, IterationStatus, "iteration status")


def write_misfit_record(path: str | Path, record: MisfitRecord) -> None:
    """Write a misfit record as JSON, atomically."""
    _write_json(path, asdict(record))


def read_misfit_record(path: str | Path) -> MisfitRecord:
    """Read a misfit record written by :func:`write_misfit_record`."""
    return _read_json(path, MisfitRecord, "misfit record")


def first_status(n_receivers: int | None = None) -> IterationStatus:
    """Status of iteration 0: the starting model, first stage, fresh history.

    With ``n_receivers`` of 0 (no observed correlation gave a receiver) the inversion
    ends at once: every iteration copies the starting model.
    """
    if n_receivers == 0:
        stopped = "no observed correlations (no receivers): nothing to invert"
        logger.warning("%s", stopped)
        return IterationStatus(
            0, 0, False, False, note=f"starting model; {stopped}", stopped=stopped, ended=True
        )
    return IterationStatus(iteration=0, stage=0, active=True, restart=True, note="starting model")


def receiver_coordinates(
    receivers: Sequence[Receiver], seed_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude in degrees of the receivers ``seed_ids``, each shape (nsta,).

    Raises
    ------
    ValueError
        Naming the receivers missing from ``receivers``.
    """
    coords = {r.seed_id: (r.station.latitude, r.station.longitude) for r in receivers}
    unknown = [s for s in seed_ids if s not in coords]
    if unknown:
        raise ValueError(f"no coordinates for receiver(s) {', '.join(unknown)}")
    lat = np.array([coords[s][0] for s in seed_ids], dtype=float)
    lon = np.array([coords[s][1] for s in seed_ids], dtype=float)
    return lat, lon


def load_problem(
    wavefields: Sequence[Wavefield],
    receivers: Sequence[Receiver],
    observed: Sequence[CorrelationTrace],
    max_lag_s: float,
    autocorrelations: bool = False,
) -> InversionProblem:
    """Green's functions, observations on the model's pairs and lags, pair distances.

    Raises
    ------
    ValueError
        When no observed correlation belongs to a modelled pair.
    """
    greens = stack_greens(wavefields)
    lat, lon = receiver_coordinates(receivers, greens.station_ids)
    pairs = station_pairs(len(lat), autocorrelations)
    dist = pair_distances(lat, lon, pairs)
    n_half = lag_samples(max_lag_s, greens)
    lags = np.arange(-n_half, n_half + 1) / greens.fs_hz
    pair_ids = [(greens.station_ids[i], greens.station_ids[j]) for i, j in pairs]
    data, available = align_observed(observed, pair_ids, lags)
    if not available.any():
        raise ValueError(
            f"none of the {len(observed)} observed correlations belongs to one of the "
            f"{len(pair_ids)} modelled pairs of {', '.join(greens.station_ids)}"
        )
    return InversionProblem(greens, data, pairs, dist, max_lag_s, available)


def measure_iteration(
    correlations: CorrelationSet,
    observed: Sequence[CorrelationTrace],
    receivers: Sequence[Receiver],
    config: MeasurementConfig,
    status: IterationStatus,
    previous: MisfitRecord | None,
    min_improvement: float,
) -> tuple[Measurement, MisfitRecord]:
    """Misfit and adjoint sources of an iteration's correlations, and the convergence test.

    Parameters
    ----------
    correlations : CorrelationSet
        Modelled correlations of the iteration.
    observed : sequence of CorrelationTrace
        Observations on the same lag axis.
    receivers : sequence of Receiver
        Coordinates of the receivers (pair distances centre the windows).
    config : MeasurementConfig
        The stage's measurement.
    status : IterationStatus
        The iteration's status; after a restart (unchanged model) there is no
        convergence test.
    previous : MisfitRecord or None
        Record of the previous iteration when it belongs to the same stage.
    min_improvement : float
        Relative decrease below which the stage stops.
    """
    lat, lon = receiver_coordinates(receivers, correlations.station_ids)
    dist_m = pair_distances(lat, lon, correlations.pairs)
    data, available = align_observed(observed, correlations.pair_ids, correlations.lags_s)
    result = measure(
        correlations.data,
        data,
        correlations.lags_s,
        dist_m,
        config,
        pair_ids=correlations.pair_ids,
        available=available,
    )
    improvement = None
    if previous is not None and not status.restart and previous.stage == status.stage:
        improvement = (
            (previous.total - result.total) / previous.total if previous.total > 0 else 0.0
        )
    converged = improvement is not None and improvement < min_improvement
    record = MisfitRecord(
        iteration=status.iteration,
        stage=status.stage,
        kind=config.kind,
        total=result.total,
        per_filter=[float(v) for v in result.misfit.sum(axis=0)],
        pairs_measured=int(available.sum()),
        improvement=improvement,
        converged=converged,
    )
    logger.info(
        "iteration %d (stage %d): misfit %.6g over %d pairs%s",
        status.iteration,
        status.stage,
        result.total,
        record.pairs_measured,
        "" if improvement is None else f", improvement {improvement:.3g}",
    )
    return result, record


def search_direction(
    kernels: np.ndarray,
    model: SourceModel,
    record: MisfitRecord,
    status: IterationStatus,
    previous_state: LBFGSState | None,
    smoothing_m: float,
    memory: int = 5,
    upper: float = np.inf,
    initial_step: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, LBFGSState]:
    """Gradient (sum of kernels times areas, smoothed) and the projected L-BFGS direction.

    Parameters
    ----------
    kernels : np.ndarray
        Kernels of the iteration, shape (npairs, nbasis, nfilters, ntraces).
    model : SourceModel
        The iteration's model.
    record : MisfitRecord
        Its misfit.
    status : IterationStatus
        A restart ignores ``previous_state``; ``step_scale`` multiplies the reference step.
    previous_state : LBFGSState or None
        State of the previous iteration of the same stage.
    smoothing_m : float
        Gaussian smoothing length in metres.
    memory, upper, initial_step
        L-BFGS history length, upper bound of the weights, first reference step
        (see :func:`seismake.noisi.optimize.prepare_step`).

    Returns
    -------
    smoothed, raw : np.ndarray
        Gradient dJ/dm, shape (ntraces, nbasis).
    state : LBFGSState
        With the search direction and the reference step.
    """
    raw = assemble_gradient(kernels, model.surface_areas_m2)
    smoothed = smooth_on_sphere(raw, model.lon, model.lat, smoothing_m, model.surface_areas_m2)
    if previous_state is None or status.restart:
        state = LBFGSState(memory=memory, lower=0.0, upper=upper)
    else:
        state = previous_state
    state = prepare_step(state, model.model, smoothed, record.total, initial_step)
    state = replace(state, alpha_base=state.alpha_base * status.step_scale)
    logger.info(
        "iteration %d: %s direction, %d pairs in the history, reference step %.3g",
        status.iteration,
        "L-BFGS" if state.n_history else "steepest-descent",
        state.n_history,
        state.alpha_base,
    )
    return smoothed, raw, state


def trial_misfit(
    problem: InversionProblem,
    model: SourceModel,
    state: LBFGSState,
    alpha: float,
    config: MeasurementConfig,
) -> float:
    """Misfit of the trial model P(x + alpha d) (weights clipped to the bounds)."""
    trial = model.with_model(step_model(state, alpha))
    return evaluate(problem, trial, config, with_gradient=False)[0].total


def update_iteration(
    status: IterationStatus,
    model: SourceModel,
    next_stage: int,
    max_shrink: int = 3,
    record: MisfitRecord | None = None,
    state: LBFGSState | None = None,
    trials: Sequence[tuple[float, float]] = (),
    problem: InversionProblem | None = None,
    config: MeasurementConfig | None = None,
) -> tuple[SourceModel, IterationStatus]:
    """Model and status of the next iteration.

    Parameters
    ----------
    status : IterationStatus
        Status of the current iteration.
    model : SourceModel
        Its model.
    next_stage : int
        Stage of the next iteration (:func:`stage_of`).
    max_shrink : int
        Shrinks of the reference step before a stage stops without decrease.
    record : MisfitRecord, optional
        Misfit of the current model (needed when the iteration is active).
    state : LBFGSState, optional
        L-BFGS state with the search direction (needed for a step).
    trials : sequence of (alpha, misfit)
        Trial step lengths and their misfits (needed for a step).
    problem : InversionProblem, optional
        Observations and Green's functions, to check the misfit at the fitted step.
    config : MeasurementConfig, optional
        The stage's measurement.

    Returns
    -------
    model : SourceModel
        The next model (a copy when the stage has stopped or no step decreased the misfit).
    status : IterationStatus
        Status of the next iteration.
    """
    nxt = status.iteration + 1
    stage = next_stage
    new_stage = stage != status.stage
    fresh = IterationStatus(
        iteration=nxt,
        stage=stage,
        active=True,
        restart=True,
        note=f"stage {stage + 1} starts: new filters and smoothing, L-BFGS history reset",
    )
    plan = plan_update(status, record)
    if status.ended:
        ended = IterationStatus(
            nxt,
            stage,
            False,
            False,
            note=f"{status.stopped}; model copied",
            stopped=status.stopped,
            ended=True,
        )
        return model, ended
    if plan != "step":
        if new_stage:
            logger.info("iteration %d: %s", nxt, fresh.note)
            return model, fresh
        stopped = status.stopped or (
            f"stage {status.stage + 1} stopped at iteration {status.iteration}: relative misfit "
            f"improvement {record.improvement:.3g} below the threshold"
        )
        copy = IterationStatus(
            nxt,
            stage,
            active=False,
            restart=False,
            note=f"{stopped}; model copied",
            stopped=stopped,
        )
        logger.info("iteration %d: %s", nxt, copy.note)
        return model, copy
    if state is None or problem is None or config is None or len(trials) < 2:
        raise ValueError(
            f"iteration {status.iteration}: a step needs the L-BFGS state, the trials, "
            "the problem and the measurement"
        )
    alphas = np.array([a for a, _ in trials], dtype=float)
    misfits = np.array([m for _, m in trials], dtype=float)
    weights, step = _line_search(problem, model, state, alphas, misfits, record.total, config)
    if weights is not None:
        new = IterationStatus(
            iteration=nxt,
            stage=stage,
            active=True,
            restart=new_stage,
            note=(
                f"step {step['alpha']:.4g} ({step['method']}): misfit "
                f"{record.total:.6g} -> {step['misfit_after']:.6g}"
            ),
            step=step,
        )
        if new_stage:
            new.note += f"; {fresh.note}"
        logger.info("iteration %d: %s", nxt, new.note)
        return model.with_model(weights), new
    if new_stage:
        return model, fresh
    if state.n_history:
        new = IterationStatus(
            nxt,
            stage,
            active=True,
            restart=True,
            note="no decrease along the L-BFGS direction: restart from steepest descent",
            step=step,
        )
    elif status.shrinks < max_shrink:
        new = IterationStatus(
            nxt,
            stage,
            active=True,
            restart=True,
            step_scale=0.1 * status.step_scale,
            shrinks=status.shrinks + 1,
            note=f"no decrease: steepest descent with trial steps / {10 ** (status.shrinks + 1)}",
            step=step,
        )
    else:
        stopped = (
            f"stage {status.stage + 1} stopped at iteration {status.iteration}: no decrease "
            f"after {max_shrink} shrinks of the step"
        )
        new = IterationStatus(
            nxt, stage, False, False, note=f"{stopped}; model copied", stopped=stopped, step=step
        )
    logger.info("iteration %d: %s", nxt, new.note)
    return model, new


def plan_update(status: IterationStatus, record: MisfitRecord | None) -> str:
    """What the update after an iteration does.

    Returns
    -------
    str
        ``copy`` (the stage has stopped), ``converged`` (it stops now: minimal
        improvement) or ``step`` (a line search from the trial misfits).
    """
    if not status.active:
        return "copy"
    if record is None:
        raise ValueError(f"iteration {status.iteration} is active but has no misfit record")
    return "converged" if record.converged else "step"


def _line_search(
    problem: InversionProblem,
    model: SourceModel,
    state: LBFGSState,
    alphas: np.ndarray,
    misfits: np.ndarray,
    misfit0: float,
    config: MeasurementConfig,
) -> tuple[np.ndarray | None, dict]:
    """Quadratic fit through the trials; the fitted step is evaluated and kept when it
    is no worse than the best trial, else the best trial is taken when it decreases."""
    choice = choose_step(alphas, misfits, misfit0)
    best = int(np.argmin(misfits))
    step = {
        "trial_alphas": alphas.tolist(),
        "trial_misfits": misfits.tolist(),
        "misfit_before": float(misfit0),
        "method": choice.method,
        "predicted_misfit": float(choice.predicted_misfit),
    }
    if not choice.decreased:
        return None, step
    if not np.isclose(choice.alpha, alphas[best], rtol=1e-12, atol=0.0):
        checked = trial_misfit(problem, model, state, choice.alpha, config)
        step["checked_misfit"] = checked
        if checked < misfit0 and checked <= misfits[best]:
            step.update(alpha=float(choice.alpha), misfit_after=float(checked))
            return step_model(state, choice.alpha), step
    if misfits[best] < misfit0:
        step.update(
            alpha=float(alphas[best]), misfit_after=float(misfits[best]), method="best_trial"
        )
        return step_model(state, alphas[best]), step
    return None, step


def write_trial(path: str | Path, iteration: int, trial: int, alpha: float, misfit: float) -> None:
    """Write the misfit of one trial step as JSON, atomically."""
    _write_json(path, {"iteration": iteration, "trial": trial, "alpha": alpha, "misfit": misfit})


def read_trials(paths: Sequence[str | Path]) -> list[tuple[float, float]]:
    """(alpha, misfit) of trial steps written by :func:`write_trial`."""
    out = []
    for path in paths:
        try:
            values = json.loads(Path(path).read_text())
            out.append((float(values["alpha"]), float(values["misfit"])))
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{path}: not a valid trial-step record ({exc})") from exc
    return out
