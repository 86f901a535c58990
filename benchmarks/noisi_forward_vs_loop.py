"""seismake's vectorized noisi forward model and kernels against a per-grid-point loop.

The loop is the straightforward scheme of noisi: for every pair and every
grid point, FFT the two time-domain Green's functions, multiply with the
source spectrum, inverse FFT and accumulate (correlations), or dot the
inverse FFT with the adjoint source (kernels). seismake FFTs all Green's
functions in one batched call (included in its timings) and sums over the
grid by matrix products. Both run on the same analytic Green's functions,
source model and adjoint sources; the table gives correlations and pair
kernels per second, their ratio, and the largest relative difference.

Run ``python benchmarks/noisi_forward_vs_loop.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from seismake.noisi.forward import correlate, stack_greens, station_pairs
from seismake.noisi.greens import analytic_wavefield
from seismake.noisi.grid import make_grid
from seismake.noisi.kernels import compute_kernels
from seismake.noisi.measure import MeasurementConfig, measure, pair_distances
from seismake.noisi.sources import SourceDistribution, make_source_model


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--half-width", type=float, default=4.0, help="grid half-width, degrees")
    p.add_argument("--step", type=float, default=25e3, help="grid step, m")
    p.add_argument("--stations", type=int, default=8, help="number of stations")
    p.add_argument("--fs", type=float, default=1.0, help="sampling rate, Hz")
    p.add_argument("--nt", type=int, default=400, help="Green's function samples")
    p.add_argument("--max-lag", type=float, default=200.0, help="correlation max lag, s")
    p.add_argument("--loop-pairs", type=int, default=3, help="pairs timed with the loop")
    p.add_argument("--repeat", type=int, default=3, help="runs of the vectorized code; best kept")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    return p.parse_args()


def _best_of(repeat: int, fn):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _loop_correlations(wavefields, psd, areas, pairs, n_fft, fs, n_half):
    out = np.zeros((len(pairs), 2 * n_half + 1))
    for p, (i, j) in enumerate(pairs):
        for k in range(psd.shape[0]):
            g1 = np.fft.rfft(wavefields[i].data[k], n=n_fft) / fs
            g2 = np.fft.rfft(wavefields[j].data[k], n=n_fft) / fs
            trace = np.fft.irfft(np.conj(g1) * g2 * psd[k], n=n_fft) * fs * areas[k]
            out[p] += np.concatenate([trace[-n_half:], trace[: n_half + 1]])
    return out


def _loop_kernels(wavefields, basis, adjoint, pairs, n_fft, fs, n_half):
    nbasis, nfilters = basis.shape[0], adjoint.shape[1]
    out = np.zeros((len(pairs), nbasis, nfilters, wavefields[0].ntraces))
    for p, (i, j) in enumerate(pairs):
        for k in range(wavefields[0].ntraces):
            g1 = np.fft.rfft(wavefields[i].data[k], n=n_fft) / fs
            g2 = np.fft.rfft(wavefields[j].data[k], n=n_fft) / fs
            for b in range(nbasis):
                trace = np.fft.irfft(np.conj(g1) * g2 * basis[b], n=n_fft) * fs
                trace = np.concatenate([trace[-n_half:], trace[: n_half + 1]])
                out[p, b, :, k] = adjoint[p] @ trace
    return out


def main() -> None:
    args = _parse()
    rng = np.random.default_rng(args.seed)
    h = args.half_width
    grid = make_grid(-h, h, -h, h, args.step)
    lat = rng.uniform(-h / 3, h / 3, args.stations)
    lon = rng.uniform(-h / 3, h / 3, args.stations)
    wavefields = [
        analytic_wavefield(
            grid, la, lo, f"XX.S{i:02d}..MXZ", args.fs, args.nt, 3000.0, 100.0, 3000.0
        )
        for i, (la, lo) in enumerate(zip(lat, lon, strict=True))
    ]
    freqs = np.fft.rfftfreq(wavefields[0].n_fft, d=1.0 / args.fs)
    model = make_source_model(
        grid,
        freqs,
        [
            SourceDistribution("homogeneous", 0.1, 0.05, 0.02),
            SourceDistribution("gaussian_blob", 1.0, 0.1, 0.03, center_lon=h / 2, sigma_m=100e3),
        ],
    )
    pairs = station_pairs(args.stations)

    t_corr, (greens, corr) = _best_of(
        args.repeat,
        lambda: (g := stack_greens(wavefields), correlate(g, model, pairs, args.max_lag)),
    )
    observed = correlate(greens, model.with_model(1.3 * model.model), pairs, args.max_lag).data
    config = MeasurementConfig("full_waveform", filters=[(0.02, 0.08), (0.05, 0.15)])
    adjoint = measure(
        corr.data, observed, corr.lags_s, pair_distances(lat, lon, pairs), config
    ).adjoint
    t_kern, kernels = _best_of(
        args.repeat,
        lambda: compute_kernels(stack_greens(wavefields), model.spectral_basis, adjoint, pairs),
    )

    sub = pairs[: args.loop_pairs]
    n_half = (corr.lags_s.size - 1) // 2
    weights_psd = model.psd()
    t0 = time.perf_counter()
    loop_corr = _loop_correlations(
        wavefields, weights_psd, model.surface_areas_m2, sub, greens.n_fft, args.fs, n_half
    )
    t_loop_corr = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop_kern = _loop_kernels(
        wavefields, model.spectral_basis, adjoint[: len(sub)], sub, greens.n_fft, args.fs, n_half
    )
    t_loop_kern = time.perf_counter() - t0

    diff_corr = np.abs(loop_corr - corr.data[: len(sub)]).max() / np.abs(loop_corr).max()
    diff_kern = np.abs(loop_kern - kernels[: len(sub)]).max() / np.abs(loop_kern).max()
    rate = {
        "correlations": (len(pairs) / t_corr, len(sub) / t_loop_corr, diff_corr),
        "pair kernels": (len(pairs) / t_kern, len(sub) / t_loop_kern, diff_kern),
    }
    print(
        f"grid {grid.size} points, {args.stations} stations ({len(pairs)} pairs), "
        f"{freqs.size} frequencies, {model.model.shape[1]} basis functions, "
        f"{len(config.filters)} filters; loop timed on {len(sub)} pairs"
    )
    print(f"{'task':<14}{'vectorized /s':>16}{'loop /s':>12}{'ratio':>10}{'max rel diff':>15}")
    for task, (vec, loop, diff) in rate.items():
        print(f"{task:<14}{vec:>16.2f}{loop:>12.3f}{vec / loop:>10.1f}{diff:>15.1e}")


if __name__ == "__main__":
    main()
