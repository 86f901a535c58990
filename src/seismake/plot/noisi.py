"""Figures of the noisi branch: source maps, kernels, waveform fits, misfit history.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot (no global figure state); save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.tri import Triangulation

Point = tuple[float, float]


def _map_panel(ax, lon, lat, values, cmap, vmin, vmax):
    """Filled contours on the grid's Delaunay triangulation (scatter for tiny grids)."""
    if vmax - vmin <= 1e-9 * max(abs(vmin), abs(vmax)):
        half = 0.5 * abs(vmin) if vmin != 0 else 1.0
        vmin, vmax = vmin - half, vmax + half
    if lon.size >= 4:
        tri = Triangulation(lon, lat)
        levels = np.linspace(vmin, vmax, 21)
        artist = ax.tricontourf(tri, values, levels=levels, cmap=cmap, extend="both")
    else:
        artist = ax.scatter(lon, lat, c=values, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xlabel("Longitude (deg)")
    ax.set_ylabel("Latitude (deg)")
    ax.set_aspect(1.0 / max(np.cos(np.radians(np.mean(lat))), 0.1))
    return artist


def _mark(ax, stations: Sequence[Point] | None, crosses: Sequence[Point] | None) -> None:
    if stations:
        xs, ys = zip(*stations, strict=True)
        ax.plot(xs, ys, "^", color="red", markeredgecolor="black", markersize=8, linestyle="")
    if crosses:
        xs, ys = zip(*crosses, strict=True)
        ax.plot(xs, ys, "x", color="limegreen", markersize=9, markeredgewidth=2, linestyle="")


def plot_source_maps(
    lon: np.ndarray,
    lat: np.ndarray,
    maps: Mapping[str, np.ndarray],
    stations: Sequence[Point] | None = None,
    markers: Sequence[Point] | None = None,
) -> Figure:
    """Source weight maps side by side (e.g. target, start, recovered).

    Parameters
    ----------
    lon, lat : np.ndarray
        Grid in degrees, shape (ntraces,).
    maps : mapping of str to np.ndarray
        Panel title -> weights, shape (ntraces,); the title gets the value range appended.
    stations : sequence of (lon, lat), optional
        Receivers, drawn as triangles.
    markers : sequence of (lon, lat), optional
        Points to mark with crosses (e.g. centres of target blobs).
    """
    fig = Figure(figsize=(4.2 * len(maps), 4.0), layout="constrained")
    axes = fig.subplots(1, len(maps), squeeze=False)[0]
    for ax, (title, values) in zip(axes, maps.items(), strict=True):
        values = np.asarray(values, dtype=float)
        vmin, vmax = float(values.min()), float(values.max())
        artist = _map_panel(ax, lon, lat, values, "viridis", vmin, vmax)
        _mark(ax, stations, markers)
        ax.set_title(f"{title} [{vmin:.2g}, {vmax:.2g}]")
        fig.colorbar(artist, ax=ax, shrink=0.8, label="source weight")
    return fig


def plot_kernel(
    lon: np.ndarray,
    lat: np.ndarray,
    kernel: np.ndarray,
    station1: Point,
    station2: Point,
    title: str = "",
) -> Figure:
    """Sensitivity kernel of one pair on a symmetric diverging colour scale.

    The scale ends at the 99th percentile of |kernel|, so the near-station
    peaks of far-field Green's functions do not hide the rest of the map.

    Parameters
    ----------
    lon, lat : np.ndarray
        Grid in degrees, shape (ntraces,).
    kernel : np.ndarray
        Kernel values, shape (ntraces,).
    station1, station2 : (lon, lat)
        The pair's stations, drawn as triangles.
    title : str
        Panel title.
    """
    fig = Figure(figsize=(5.0, 4.2), layout="constrained")
    ax = fig.subplots()
    kernel = np.asarray(kernel, dtype=float)
    vmax = float(np.percentile(np.abs(kernel), 99.0)) or 1.0
    artist = _map_panel(ax, lon, lat, kernel, "RdBu_r", -vmax, vmax)
    _mark(ax, [station1, station2], None)
    ax.set_title(title)
    fig.colorbar(artist, ax=ax, shrink=0.8, label="sensitivity")
    return fig


def plot_waveform_fits(
    lags_s: np.ndarray,
    observed: np.ndarray,
    modelled: Mapping[str, np.ndarray],
    labels: Sequence[str],
    noise_free: np.ndarray | None = None,
) -> Figure:
    """Observed and modelled correlations, one panel per pair.

    Parameters
    ----------
    lags_s : np.ndarray
        Lag axis in s, shape (nlag,).
    observed : np.ndarray
        Observed (or noisy synthetic) correlations, shape (npairs, nlag).
    modelled : mapping of str to np.ndarray
        Legend label -> modelled correlations, each shape (npairs, nlag).
    labels : sequence of str
        Pair names, length npairs.
    noise_free : np.ndarray, optional
        Noise-free synthetic data, shape (npairs, nlag).
    """
    observed = np.atleast_2d(observed)
    fig = Figure(figsize=(7.0, 1.8 * len(labels) + 0.6), layout="constrained")
    axes = fig.subplots(len(labels), 1, sharex=True, squeeze=False)[:, 0]
    for p, ax in enumerate(axes):
        ax.plot(lags_s, observed[p], color="0.7", lw=2.0, label="observed")
        if noise_free is not None:
            ax.plot(lags_s, np.atleast_2d(noise_free)[p], color="0.3", lw=1.0, label="noise free")
        for name, data in modelled.items():
            ax.plot(lags_s, np.atleast_2d(data)[p], lw=1.0, label=name)
        ax.set_ylabel(labels[p], fontsize=8)
    axes[0].legend(loc="upper right", fontsize=7, ncols=2 + len(modelled))
    axes[-1].set_xlabel("Lag (s)")
    return fig


def plot_misfit_history(
    misfits: Mapping[str, Sequence[float]],
    iterations: Mapping[str, Sequence[int]] | None = None,
) -> Figure:
    """Misfit per iteration, relative to the first value, on a log scale.

    Parameters
    ----------
    misfits : mapping of str to sequence of float
        Curve label -> misfit of each iteration (starting model first).
    iterations : mapping of str to sequence of int, optional
        Curve label -> iteration number of each misfit; 0, 1, ... by default.
    """
    fig = Figure(figsize=(5.0, 3.5), layout="constrained")
    ax = fig.subplots()
    for label, values in misfits.items():
        values = np.asarray(values, dtype=float)
        x = np.arange(values.size) if iterations is None else np.asarray(iterations[label])
        ax.semilogy(x, values / values[0], marker="o", ms=3, label=label)
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Misfit / initial misfit")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_kernels(
    lon: np.ndarray,
    lat: np.ndarray,
    kernels: Mapping[str, np.ndarray],
    pairs: Sequence[tuple[Point, Point]],
) -> Figure:
    """Sensitivity kernels of several pairs side by side (see :func:`plot_kernel`).

    Parameters
    ----------
    lon, lat : np.ndarray
        Grid in degrees, shape (ntraces,).
    kernels : mapping of str to np.ndarray
        Panel title -> kernel values, shape (ntraces,).
    pairs : sequence of ((lon, lat), (lon, lat))
        The two stations of each panel's pair, in the order of ``kernels``.
    """
    fig = Figure(figsize=(4.6 * len(kernels), 4.2), layout="constrained")
    axes = fig.subplots(1, len(kernels), squeeze=False)[0]
    for ax, (title, kernel), stations in zip(axes, kernels.items(), pairs, strict=True):
        kernel = np.asarray(kernel, dtype=float)
        vmax = float(np.percentile(np.abs(kernel), 99.0)) or 1.0
        artist = _map_panel(ax, lon, lat, kernel, "RdBu_r", -vmax, vmax)
        _mark(ax, list(stations), None)
        ax.set_title(title, fontsize=9)
        fig.colorbar(artist, ax=ax, shrink=0.8, label="sensitivity")
    return fig


def plot_message(text: str) -> Figure:
    """A figure holding only a message (e.g. why there is nothing to show)."""
    fig = Figure(figsize=(5.0, 1.5))
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig
