"""seismake's noise branch against NoisePy (noisepy-seis 0.9.93) on the same demo day.

Writes one day (2024-01-01, 86400 s, seed 42) of the demo archive in the SCEDC layout,
builds NoisePy in its own virtual environment (``benchmarks/.env-noisepy``: noisepy-seis
needs Python < 3.11; a pyenv 3.10 interpreter is used when there is one, else Python 3.11
with noisepy-seis installed without its Python-version check), then, for each parameter
set, runs

- NoisePy: ``cross_correlate`` from ``SCEDCS3DataStore`` (the local directory) into an
  ``ASDFCCStore``, then ``stack_cross_correlations`` (linear) into an ``ASDFStackStore``;
- seismake: the steps of the workflow's ``cross_correlate`` rule (read through a
  manifest, ``preprocess_day``, ``correlate_day``, the day's HDF5), then
  ``stack_day_files`` (linear);

with the same parameters (20 Hz, 1800 s windows every 450 s, 0.05-2 Hz, response
removed, xcorr, 9 components, 200 s lags): ``plain`` (no normalization, one substack per
window, as NoisePy's tutorial keeps them), ``tutorial`` (one-bit and rma whitening, the
tutorial's normalizations) and ``daily`` (no normalization, one stack per day).

Printed per station pair: the correlation coefficient of the linear stacks of the day
(ZZ, and the lowest over the 9 ENZ combinations), and of the linear stacks of the
windows clear of NoisePy's day-end tapers ("interior": NoisePy and ObsPy's
``remove_response`` taper 5 % of the day, 4320 s, at each end; seismake at most 20 s),
where both codes see the same samples. The last four columns ("like NoisePy") repeat
both comparisons with seismake run with NoisePy's three choices, patched in for this
comparison only: a circular correlation over ``next_fast_len(cc_len)`` points
(NoisePy's lags wrap around; seismake zero-pads to ``cc_len + maxlag`` so that every
lag is a linear correlation), a Hann taper of 20 samples per window end (seismake:
20 s) and 5 % of the day at each end (seismake: 20 s). Then the wall time of each
stage (NoisePy's own stage timings) and the throughput in station pair-days per second
of seismake as it is, both codes on all cores of the machine, both correlating every
station with itself too, each started after ``sync`` so that neither pays for the
other's writes.

NoisePy stores its zero lag one sample late for even FFT lengths; its traces are shifted
by one sample before the comparison. Pairs NoisePy stores in the other order are
time-reversed (about the zero lag) with their component letters swapped. With one day
and no substacks NoisePy's stacking has a single row and writes nothing: its day
correlation (the mean of the day's windows) is the linear stack compared.

Run ``python benchmarks/noise_vs_noisepy.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: NoisePy runs with the environment the benchmark was started with (its default threads)
START_ENV = dict(os.environ)
ENV = HERE / ".env-noisepy"
PYENV_310 = Path.home() / ".pyenv/versions/3.10.13/bin/python"
NOISEPY = "noisepy-seis==0.9.93"
#: the Python 3.11 route: noisepy-seis' dependencies first, then itself without the check
PY311_DEPS = [
    "noisepy-seis-io==0.3.5",
    "aiobotocore==2.5.2",
    "numba>=0.57,<1",
    "pycwt>=0.3.0a22,<1",
    "scipy==1.12.0",
]
DAY = "2024-01-01"
#: NoisePy's preprocessing tapers 5 % of the day at each end (seismake: 20 s at most)
DAY_TAPER_S = 0.05 * 86400.0
COMPONENTS = ("EE", "EN", "EZ", "NE", "NN", "NZ", "ZE", "ZN", "ZZ")
#: parameter sets compared (NoisePy's ConfigParameters names)
BASE = {
    "sampling_rate": 20.0,
    "cc_len": 1800,
    "step": 450.0,
    "freqmin": 0.05,
    "freqmax": 2.0,
    "max_over_std": 10,
    "smooth_N": 10,
    "smoothspect_N": 10,
    "cc_method": "xcorr",
    "substack": True,
    "substack_windows": 1,
    "maxlag": 200,
    "ncomp": 3,
    "rm_resp": "inv",
    "xcorr_only": False,  # NoisePy correlates every station with itself too
}
PARAMETER_SETS = {
    "plain": {**BASE, "time_norm": "no", "freq_norm": "no"},
    "tutorial": {**BASE, "time_norm": "one_bit", "freq_norm": "rma"},
    "daily": {**BASE, "time_norm": "no", "freq_norm": "no", "substack": False},
}


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=HERE / "out" / "noise_vs_noisepy")
    p.add_argument(
        "--sets",
        nargs="+",
        default=list(PARAMETER_SETS),
        choices=list(PARAMETER_SETS),
        help="parameter sets to compare",
    )
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="seismake threads")
    p.add_argument("--rebuild-env", action="store_true", help="rebuild the NoisePy venv")
    return p.parse_args()


# -- NoisePy (runs inside benchmarks/.env-noisepy) ---------------------------------------------


def noisepy_worker(root: Path, work: Path, params: dict) -> None:
    """Correlate and stack the day with NoisePy; write timings and the ENZ linear stacks."""
    import logging
    from datetime import datetime, timezone

    import numpy as np
    from datetimerange import DateTimeRange
    from noisepy.seis import cross_correlate, stack_cross_correlations
    from noisepy.seis.io.asdfstore import ASDFCCStore, ASDFStackStore
    from noisepy.seis.io.channel_filter_store import channel_filter
    from noisepy.seis.io.channelcatalog import XMLStationChannelCatalog
    from noisepy.seis.io.datatypes import (
        CCMethod,
        ConfigParameters,
        FreqNorm,
        RmResp,
        StackMethod,
        TimeNorm,
    )
    from noisepy.seis.io.s3store import SCEDCS3DataStore

    logging.getLogger().setLevel(logging.WARNING)
    timings: dict[str, float] = {}

    class StageTimes(logging.Handler):
        """NoisePy's own stage timings ("TIMING CC MAIN: 1.234 secs for <stage>")."""

        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if text.startswith("TIMING CC MAIN:"):
                secs, stage = text.split(":", 1)[1].split(" secs for ", 1)
                key = stage.split()[0] if stage.split() else stage
                timings[key] = timings.get(key, 0.0) + float(secs)

    cc_logger = logging.getLogger("noisepy.seis.correlate")
    cc_logger.setLevel(logging.DEBUG)
    cc_logger.propagate = False
    cc_logger.addHandler(StageTimes())
    # this runs on Python 3.10 (noisepy-seis), which has no datetime.UTC
    start = datetime.fromisoformat(DAY).replace(tzinfo=timezone.utc)  # noqa: UP017
    end = datetime.fromtimestamp(start.timestamp() + 86400, tz=timezone.utc)  # noqa: UP017
    config = ConfigParameters()
    config.start_date, config.end_date = start, end
    config.networks, config.stations, config.channels = ["SY"], ["S*"], ["BH?", "HH?"]
    config.single_freq = False  # keep S06 (40 Hz), resampled to sampling_rate
    config.time_norm = TimeNorm(params["time_norm"])
    config.freq_norm = FreqNorm(params["freq_norm"])
    config.cc_method = CCMethod(params["cc_method"])
    config.rm_resp = RmResp(params["rm_resp"])
    for key in (
        "sampling_rate",
        "cc_len",
        "step",
        "freqmin",
        "freqmax",
        "max_over_std",
        "smooth_N",
        "smoothspect_N",
        "substack",
        "substack_windows",
        "maxlag",
        "ncomp",
    ):
        setattr(config, key, params[key])
    config.stack_method = StackMethod.LINEAR
    config.rotation = True  # with rotation=False NoisePy writes no ENZ stacks
    catalog = XMLStationChannelCatalog(str(root / "FDSNstationXML" / "SY"))
    raw_store = SCEDCS3DataStore(
        str(root / "continuous_waveforms") + "/",
        catalog,
        channel_filter(config.networks, config.stations, config.channels),
        DateTimeRange(start, end),
    )
    work.mkdir(parents=True, exist_ok=True)
    cc_store = ASDFCCStore(str(work / "ccf"))
    t0 = time.perf_counter()
    cross_correlate(raw_store, config, cc_store)
    t_cc = time.perf_counter() - t0
    stacks, interior = {}, {}
    for src, rec in cc_store.get_station_pairs():
        for ts in cc_store.get_timespans(src, rec):
            for cc in cc_store.read(ts, src, rec):
                comp = cc.src.name[-1] + cc.rec.name[-1]
                times = np.atleast_1d(np.asarray(cc.parameters["time"], dtype=np.float64))
                keep = interior_windows(times - start.timestamp(), params["cc_len"])
                key = f"{src.network}.{src.name}|{rec.network}.{rec.name}|{comp}"
                if comp not in COMPONENTS:
                    continue
                if params["substack"] and keep.any():
                    interior[key] = np.asarray(cc.data, dtype=np.float64)[keep].mean(axis=0)
                if not params["substack"]:  # one row: the day's linear stack of its windows
                    stacks[key] = np.asarray(cc.data, dtype=np.float64).reshape(-1)
    t_stack = float("nan")
    if params["substack"]:  # NoisePy stacks only components with two rows or more
        stack_store = ASDFStackStore(str(work / "stack"))
        # the stacking filters stations by exact name (no patterns)
        config.stations = sorted({s.name for pair in cc_store.get_station_pairs() for s in pair})
        t0 = time.perf_counter()
        stack_cross_correlations(ASDFCCStore(str(work / "ccf"), mode="r"), stack_store, config)
        t_stack = time.perf_counter() - t0
    for src, rec in stack_store.get_station_pairs() if params["substack"] else []:
        for ts in stack_store.get_timespans(src, rec):
            for stack in stack_store.read(ts, src, rec):
                if stack.name == "Allstack_linear" and stack.component in COMPONENTS:
                    key = f"{src.network}.{src.name}|{rec.network}.{rec.name}|{stack.component}"
                    stacks[key] = np.asarray(stack.data, dtype=np.float64)
    np.savez(work / "stacks.npz", **stacks)
    np.savez(work / "interior.npz", **interior)
    n_pairs = len(cc_store.get_station_pairs())
    record = {"cc_s": t_cc, "stack_s": t_stack, "n_pairs": n_pairs, "stages_s": timings}
    (work / "timing.json").write_text(json.dumps(record))


def interior_windows(offsets_s, cc_len: float):
    """Windows clear of NoisePy's day-end tapers (5 % of 86400 s at each end of the day).

    Parameters
    ----------
    offsets_s : numpy.ndarray
        (n_win,) window starts in s after midnight.
    cc_len : float
        Window length in s.
    """
    return (offsets_s >= DAY_TAPER_S) & (offsets_s + cc_len <= 86400.0 - DAY_TAPER_S)


# -- environment -------------------------------------------------------------------------------


def ensure_noisepy_env(rebuild: bool) -> Path:
    """The venv's python, building the venv first when it is missing (about 1.5 min)."""
    python = ENV / "bin" / "python"
    if rebuild and ENV.exists():
        shutil.rmtree(ENV)
    if python.exists():
        return python
    base = PYENV_310 if PYENV_310.exists() else Path(shutil.which("python3.10") or "")
    print(f"building {ENV} ...", flush=True)
    if base.is_file():
        subprocess.run([str(base), "-m", "venv", str(ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", NOISEPY], check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PY311_DEPS], check=True)
        subprocess.run(
            [
                *(str(python), "-m", "pip", "install", "-q"),
                *("--no-deps", "--ignore-requires-python", NOISEPY),
            ],
            check=True,
        )
    return python


# -- seismake ----------------------------------------------------------------------------------


def seismake_run(root: Path, work: Path, params: dict, threads: int) -> dict:
    """Correlate and stack the day with seismake; timings, full-day and interior stacks."""
    import numpy as np
    from obspy import UTCDateTime

    from seismake.archive import Archive, ArchiveSpec, Selection, build_manifest
    from seismake.noise.archiveday import read_archive_day
    from seismake.noise.ccfstore import read_day_correlations, write_correlated_day
    from seismake.noise.correlate import correlate_day, station_coordinates
    from seismake.noise.params import CorrelationParams, StackParams
    from seismake.noise.preprocess import preprocess_day
    from seismake.noise.stack import stack_day_files

    spec = ArchiveSpec.from_config(
        {
            "url": str(root),
            "layout": "scedc",
            "anon": True,
            "endpoint_url": None,
            "stationxml": None,
            "retries": 1,
            "backoff_s": 0.1,
            "timeout_s": 5,
        }
    )
    archive = Archive(spec)
    selection = Selection.from_config(
        {"networks": ["SY"], "stations": ["S*"], "channels": ["BH?", "HH?"], "locations": ["*"]}
    )
    day = UTCDateTime(DAY)
    manifest = build_manifest(archive, day, selection)
    params = CorrelationParams.from_dict(
        {k: params[k] for k in params if k in CorrelationParams.__dataclass_fields__}
    )
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{DAY}.h5"
    t0 = time.perf_counter()
    raw = read_archive_day(archive, manifest, ["S*"])
    waveforms = preprocess_day(raw.stream, day, params, raw.inventory, threads)
    t1 = time.perf_counter()
    coordinates = station_coordinates(raw.inventory, waveforms.ids, day)
    write_correlated_day(
        path, lambda allocate: correlate_day(waveforms, params, coordinates, threads, allocate)
    )
    t2 = time.perf_counter()
    stacks = stack_day_files([path], StackParams(stack_method="linear"))
    t_stack = time.perf_counter() - t2
    result = read_day_correlations(path)
    keep = interior_windows(result.substack_start - day.timestamp, params.cc_len)
    out, interior = {}, {}
    for p in range(stacks.n_pair):
        s1 = ".".join(stacks.station1[p].split(".")[:2])
        s2 = ".".join(stacks.station2[p].split(".")[:2])
        for c, comp in enumerate(stacks.components):
            out[(s1, s2, comp)] = np.asarray(stacks.stacks["linear"][p, c], dtype=np.float64)
            rows = keep & (result.ngood[p, c] > 0)
            if rows.any():
                interior[(s1, s2, comp)] = result.data[p, c, rows].mean(axis=0, dtype=np.float64)
    return {
        "pre_s": t1 - t0,
        "corr_s": t2 - t1,
        "cc_s": t2 - t0,
        "stack_s": t_stack,
        "stacks": out,
        "interior": interior,
        "n_pairs": stacks.n_pair,
    }


@contextmanager
def noisepy_choices() -> Iterator[None]:
    """Run seismake with NoisePy's FFT length (circular lags), 20-sample window taper and
    5 % day-end tapers."""
    import numpy as np
    import scipy.fft

    import seismake.noise.correlate as correlate
    import seismake.noise.preprocess as preprocess
    import seismake.noise.windows as windows

    def window_taper(n: int, sampling_rate: float) -> np.ndarray:
        n_side = int(min(preprocess.TAPER_FRACTION * n, 20))
        taper = np.ones(n)
        ramp = np.hanning(2 * n_side + 1)[:n_side]
        taper[:n_side], taper[n - n_side :] = ramp, ramp[::-1]
        return taper

    saved = correlate.fft_length, windows.taper_window, preprocess.TAPER_MAX_S
    correlate.fft_length = lambda n_len, n_maxlag: scipy.fft.next_fast_len(n_len, real=True)
    windows.taper_window = window_taper
    preprocess.TAPER_MAX_S = np.inf  # the day's single segment: 5 % at each end
    try:
        yield
    finally:
        correlate.fft_length, windows.taper_window, preprocess.TAPER_MAX_S = saved


# -- comparison --------------------------------------------------------------------------------


def compare(ours: dict, theirs_npz: Path) -> dict[tuple[str, str], dict[str, float]]:
    """Correlation coefficient per pair and ENZ combination, NoisePy aligned on seismake.

    NoisePy's zero lag is one sample late for even FFT lengths (sample ``L + 1`` of
    ``2 L + 1``): its sample ``i`` is seismake's ``i - 1``. Pairs it stores as
    (station 2, station 1) are time-reversed, with the component letters swapped:
    seismake's sample ``j`` is then its sample ``2 L + 1 - j``.
    """
    import numpy as np

    aligned = {}
    for key, data in dict(np.load(theirs_npz)).items():
        src, rec, comp = key.split("|")
        nan = np.array([np.nan])
        aligned[(src, rec, comp)] = np.concatenate([data[1:], nan])
        aligned[(rec, src, comp[::-1])] = np.concatenate([nan, data[1:][::-1]])
    table: dict[tuple[str, str], dict[str, float]] = {}
    for (s1, s2, comp), a in ours.items():
        b = aligned.get((s1, s2, comp))
        if s1 == s2 or b is None or not np.any(a) or not np.any(np.nan_to_num(b)):
            continue
        both = np.isfinite(b)
        table.setdefault((s1, s2), {})[comp] = float(np.corrcoef(a[both], b[both])[0, 1])
    return table


def main() -> None:
    a = _parse()
    import numpy as np

    from seismake.synth import DemoSpec, write_demo_archive

    root = a.out / "demo"
    if not (root / "continuous_waveforms").exists():
        print(f"writing the demo day to {root} ...", flush=True)
        write_demo_archive(root, DemoSpec(n_days=1))
    python = ensure_noisepy_env(a.rebuild_env)
    version = subprocess.run(
        [str(python), "-c", "import noisepy.seis; print(noisepy.seis.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for name in a.sets:
        params = PARAMETER_SETS[name]
        work = a.out / name
        if work.exists():
            shutil.rmtree(work)
        os.sync()
        subprocess.run(
            [
                *(str(python), __file__, "--noisepy-worker"),
                *(str(root), str(work / "noisepy"), json.dumps(params)),
            ],
            check=True,
            env={**START_ENV, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"},
        )
        theirs = json.loads((work / "noisepy" / "timing.json").read_text())
        os.sync()
        ours = seismake_run(root, work / "seismake", params, a.threads)
        full = compare(ours["stacks"], work / "noisepy" / "stacks.npz")
        inner = compare(ours["interior"], work / "noisepy" / "interior.npz")
        with noisepy_choices():
            alike = seismake_run(root, work / "seismake-like-noisepy", params, a.threads)
        full_alike = compare(alike["stacks"], work / "noisepy" / "stacks.npz")
        inner_alike = compare(alike["interior"], work / "noisepy" / "interior.npz")
        print(
            f"\n{name}: time_norm={params['time_norm']}, freq_norm={params['freq_norm']}, "
            f"cc_method={params['cc_method']}; NoisePy {version}; seismake threads={a.threads}"
        )
        print("correlation coefficient of the linear stacks, seismake vs NoisePy")
        widths = (7, 8, 12, 13, 7, 8, 12, 13)
        heads = ("day ZZ", "day min", "interior ZZ", "interior min") * 2
        print(f"{'':<14} {'seismake':^43} {'seismake like NoisePy':^43}")
        print(f"{'pair':<14} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
        rows = []
        for pair in sorted(full):
            values = [full[pair].get("ZZ", np.nan), min(full[pair].values())]
            for table in (inner, full_alike, inner_alike):
                values += [
                    table.get(pair, {}).get("ZZ", np.nan),
                    min(table.get(pair, {"": np.nan}).values()),
                ]
            rows.append(values)
            print(
                f"{pair[0]}-{pair[1].split('.')[1]:<7} "
                + " ".join(f"{v:{w}.4f}" for v, w in zip(values, widths, strict=True))
            )
        low = [np.nanmin(c) if np.isfinite(c).any() else np.nan for c in np.array(rows).T]
        print(
            f"{'lowest':<14} " + " ".join(f"{v:{w}.4f}" for v, w in zip(low, widths, strict=True))
        )
        stages = theirs["stages_s"]
        np_pre = stages.get("reading", 0.0) + stages.get("preprocessing", 0.0)
        np_corr = stages.get("Compute", 0.0) + stages.get("Correlate", 0.0)
        print(
            f"pairs correlated (auto-correlations included): NoisePy {theirs['n_pairs']}, "
            f"seismake {ours['n_pairs']}"
        )
        print(f"{'wall time (s)':<28} {'NoisePy':>8} {'seismake':>9} {'ratio':>6}")
        for label, t_np, t_sm in (
            ("read + preprocess", np_pre, ours["pre_s"]),
            ("correlate + write", np_corr, ours["corr_s"]),
            ("cross_correlate, whole day", theirs["cc_s"], ours["cc_s"]),
            ("stack (linear)", theirs["stack_s"], ours["stack_s"]),
        ):
            if np.isfinite(t_np):
                print(f"{label:<28} {t_np:8.1f} {t_sm:9.1f} {t_np / t_sm:5.1f}x")
        for label, t_np, t_sm in (
            ("cross_correlate, whole day", theirs["cc_s"], ours["cc_s"]),
            ("correlate + write", np_corr, ours["corr_s"]),
        ):
            rate_np, rate_sm = theirs["n_pairs"] / t_np, ours["n_pairs"] / t_sm
            print(
                f"throughput, {label}: NoisePy {rate_np:.2f}, seismake {rate_sm:.2f} "
                f"pair-days/s ({rate_sm / rate_np:.1f}x)"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--noisepy-worker":
        noisepy_worker(Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4]))
    else:
        os.environ.update(
            dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
        )
        main()
