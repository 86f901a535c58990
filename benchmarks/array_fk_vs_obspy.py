"""seismake's sliding-window FK against ObsPy's array_processing, same data and grid.

Builds a synthetic record on a 9-element ring array (2 km aperture, 20 Hz) with
band-limited plane waves in noise, runs ``obspy.signal.array_analysis.array_processing``
(``prewhiten=0, method=0``, no semblance or velocity threshold) and
``seismake.array.fk.sliding_time_array_fk`` with the same windows, band and slowness
grid, and prints: windows compared, fraction with the same grid maximum, the largest
relative-power difference, the wall time of each and the speed ratio.

Run ``python benchmarks/array_fk_vs_obspy.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from obspy.signal.array_analysis import array_processing

from seismake.array.fk import sliding_time_array_fk
from seismake.array.synthetic import PlaneWave, plane_wave_stream, ring_array


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=1800.0, help="record length, s")
    p.add_argument("--fs", type=float, default=20.0, help="sampling rate, Hz")
    p.add_argument("--win", type=float, default=20.0, help="window length, s")
    p.add_argument("--step", type=float, default=2.0, help="window step, s")
    p.add_argument("--fmin", type=float, default=0.5, help="band low edge, Hz")
    p.add_argument("--fmax", type=float, default=4.0, help="band high edge, Hz")
    p.add_argument("--sl-max", type=float, default=3.6, help="grid from -sl_max to sl_max, s/km")
    p.add_argument("--sl-step", type=float, default=0.18, help="grid step, s/km")
    p.add_argument("--noise", type=float, default=0.5, help="noise RMS (signal RMS 1)")
    p.add_argument("--workers", type=int, default=1, help="seismake threads")
    p.add_argument("--repeat", type=int, default=1, help="runs of each code; best time kept")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    return p.parse_args()


def _best_of(repeat: int, fn):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    a = _parse()
    rng = np.random.default_rng(a.seed)
    n_waves = max(1, int(a.duration // 300))
    waves = [
        PlaneWave(
            backazimuth_deg=float(rng.uniform(0, 360)),
            velocity_km_s=float(rng.uniform(0.4, 6.0)),
            start_s=float(300.0 * k + rng.uniform(20, 100)),
            duration_s=float(rng.uniform(60, 150)),
            fmin=a.fmin,
            fmax=a.fmax,
        )
        for k in range(n_waves)
    ]
    east, north = ring_array(9, 1000.0)
    st = plane_wave_stream(east, north, waves, a.fs, a.duration, noise_rms=a.noise, seed=a.seed)
    t0, t1 = st[0].stats.starttime, st[0].stats.endtime
    grid = dict(sll_x=-a.sl_max, slm_x=a.sl_max, sll_y=-a.sl_max, slm_y=a.sl_max, sl_s=a.sl_step)

    t_obspy, ref = _best_of(
        a.repeat,
        lambda: array_processing(
            st,
            win_len=a.win,
            win_frac=a.step / a.win,
            semb_thres=-1e9,
            vel_thres=-1e9,
            frqlow=a.fmin,
            frqhigh=a.fmax,
            stime=t0,
            etime=t1,
            prewhiten=0,
            timestamp="julsec",
            method=0,
            **grid,
        ),
    )
    t_seis, res = _best_of(
        a.repeat,
        lambda: sliding_time_array_fk(
            st, st[0].stats.station, a.fmin, a.fmax, a.win, a.step, n_workers=a.workers, **grid
        ),
    )
    m = len(ref)
    if not np.allclose(res.window_starts[:m], ref[:, 0], atol=1e-6):
        raise SystemExit("window positions differ from ObsPy's")
    dbaz = np.abs((res.backazimuth[:m] - ref[:, 3] + 180.0) % 360.0 - 180.0)
    same = (dbaz < 1e-6) & np.isclose(1.0 / res.velocity[:m], ref[:, 4], rtol=1e-9)
    drel = np.abs(res.semblance[:m] - ref[:, 1])
    n_grid = int((2 * a.sl_max) / a.sl_step + 0.5) + 1

    rows = [
        ("array", f"9 elements, 2 km aperture, {a.fs:g} Hz, {a.duration:g} s"),
        ("band / window / step", f"{a.fmin:g}-{a.fmax:g} Hz / {a.win:g} s / {a.step:g} s"),
        ("slowness grid", f"{n_grid} x {n_grid}, step {a.sl_step:g} s/km"),
        ("DFT bins per window", f"{res.freqs.size}"),
        ("windows (ObsPy / seismake)", f"{m} / {res.times.size}"),
        ("same grid maximum", f"{same.mean():.2%} ({int(same.sum())} of {m})"),
        ("max |relpow difference|", f"{drel.max():.2e}"),
        ("ObsPy array_processing", f"{t_obspy:.3f} s"),
        (f"seismake FK ({a.workers} thread{'s' if a.workers > 1 else ''})", f"{t_seis:.3f} s"),
        ("speed ratio", f"{t_obspy / t_seis:.1f}x"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
