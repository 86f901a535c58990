"""The noise branch through the real snakemake: physics against the demo's truth, reruns,
a bad day, SAC output for noisi, upload to S3."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import boto3
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.signal
import yaml

from seismake.noise.stackstore import read_stacks
from seismake.noisi.sacio import read_correlation_sac
from seismake.synth import geodesic_inverse, greens_velocity, source_spectrum
from tests.conftest import (
    BRANCHES_OFF,
    benchmark_mtimes,
    external_archive_config,
    jobs_run,
    make_workdir,
    run_snakemake,
)

#: the short-demo settings of the noise branch in these tests: Z only, short windows;
#: the demo days are shorter than 86400 s, so no channel is dropped for missing most of it
NOISE_SHORT = {
    "enabled": True,
    "ncomp": 1,
    "rotation": False,
    "stack_method": "linear",
    "cc_len": 300.0,
    "step": 150.0,
    "maxlag": 100.0,
    "max_gap_fraction": 1.0,
    "n_chunks": 2,
    "moveout": {"components": ["ZZ"], "method": "linear"},
}

#: physics check: the band of the envelopes and its period (1 / centre frequency)
BAND_HZ = (0.1, 0.3)
PERIOD_S = 1.0 / np.mean(BAND_HZ)


def write_config(work: Path, name: str, cfg: dict) -> tuple[str, str]:
    (work / name).write_text(yaml.safe_dump(cfg))
    return ("--configfile", name)


def noise_jobs(ran: set[str]) -> set[str]:
    return {r.removeprefix("noise/").removesuffix(".tsv") for r in ran if r.startswith("noise/")}


# -- physics -------------------------------------------------------------------------------


def expected_zz(truth: Path, coords: np.ndarray, lags_s: np.ndarray) -> np.ndarray:
    """Ensemble-average ZZ correlation of the demo's noise sources (truth/), per pair.

    The cross-spectrum of receivers 1 and 2 is ``sum_s weight_s area_s S(f) conj(G1) G2``
    (truth/model.json); its inverse transform on the lags of the stacks is the
    correlation that an infinitely long record would give.

    Parameters
    ----------
    coords : (n_pair, 4) latitude 1, longitude 1, latitude 2, longitude 2 (degrees).
    lags_s : (n_lag,) lags of the stacks (s), zero at the centre.
    """
    model = json.loads((truth / "model.json").read_text())["ambient_noise"]
    sources = pd.read_csv(truth / "noise_sources.csv")
    fs = 1.0 / (lags_s[1] - lags_s[0])
    n_half = lags_s.size // 2
    n_fft = 8 * lags_s.size
    f = np.fft.rfftfreq(n_fft, 1.0 / fs)
    spec = model["source_spectrum"]
    shape = source_spectrum(f, spec["mean_hz"], spec["std_hz"], spec["window_hz"])
    power = (sources.weight * sources.area_m2).to_numpy()[:, None] * shape[None, :]
    v_m_s = model["phase_velocity_km_s"] * 1000.0
    out = np.zeros((len(coords), lags_s.size))
    for p, (lat1, lon1, lat2, lon2) in enumerate(coords):
        r1 = geodesic_inverse(sources.latitude.to_numpy(), sources.longitude.to_numpy(), lat1, lon1)
        r2 = geodesic_inverse(sources.latitude.to_numpy(), sources.longitude.to_numpy(), lat2, lon2)
        g1, g2 = (
            greens_velocity(f[None, :], r[0][:, None], v_m_s, model["q"], model["density_kg_m3"])
            for r in (r1, r2)
        )
        c = np.fft.irfft((power * np.conj(g1) * g2).sum(axis=0), n_fft)
        out[p] = np.concatenate([c[n_fft - n_half :], c[: n_half + 1]])
    return out


def band_envelope(traces: np.ndarray, fs: float) -> np.ndarray:
    sos = scipy.signal.butter(4, BAND_HZ, btype="bandpass", fs=fs, output="sos")
    taper = scipy.signal.windows.tukey(traces.shape[-1], 0.1)
    return np.abs(scipy.signal.hilbert(scipy.signal.sosfiltfilt(sos, traces * taper), axis=-1))


def test_zz_stacks_peak_at_the_demo_velocity_where_sources_illuminate(tmp_path):
    work = make_workdir(tmp_path / "wf")
    cfg = {
        **BRANCHES_OFF,
        "start_date": "2024-01-01",
        "end_date": "2024-01-03",
        "demo": {"enabled": True, "seed": 42, "day_length_s": 43200.0},
        "noise": {
            **NOISE_SHORT,
            "cc_len": 1800.0,
            "step": 450.0,
            "maxlag": 150.0,
            "moveout": {"components": ["ZZ"], "freqmin": BAND_HZ[0], "freqmax": BAND_HZ[1]},
        },
    }
    args = write_config(work, "physics.yaml", cfg)
    run_snakemake(work, "results/noise/moveout_ZZ.csv", *args)

    truth = work / "resources/demo_archive/truth"
    velocity = json.loads((truth / "model.json").read_text())["ambient_noise"][
        "phase_velocity_km_s"
    ]
    chunks = [read_stacks(p) for p in sorted((work / "results/noise/stack").glob("*.h5"))]
    lags = chunks[0].lags_s
    fs = 1.0 / (lags[1] - lags[0])
    stations = pd.read_csv(truth / "stations.csv", keep_default_na=False)
    network = stations[stations.role == "network"]
    assert sum(c.n_pair for c in chunks) == len(network) * (len(network) - 1) // 2
    assert not any(s.startswith("SY.AR") for c in chunks for s in [*c.station1, *c.station2])

    checked, both_sides = [], 0
    for chunk in chunks:
        coords = np.c_[chunk.coords1[:, :2], chunk.coords2[:, :2]]
        observed = band_envelope(chunk.stacks["linear"][:, chunk.components.index("ZZ")], fs)
        expected = band_envelope(expected_zz(truth, coords, lags), fs)
        for p in range(chunk.n_pair):
            t_arrival = chunk.distance_km[p] / velocity
            if chunk.distance_km[p] < 2 * velocity * PERIOD_S:  # two wavelengths
                continue
            sides = []
            for side in (lags > 0, lags < 0):
                exp_side, obs_side = expected[p, side], observed[p, side]
                exp_lag = abs(lags[side][np.argmax(exp_side)])
                near = np.abs(np.abs(lags[side]) - t_arrival) <= PERIOD_S
                # the truth illuminates this side: its envelope peaks at distance / velocity,
                # stands out of the rest of the side, and carries at least half the energy
                # of the stronger side
                illuminated = (
                    abs(exp_lag - t_arrival) <= PERIOD_S / 2
                    and exp_side[~near].max() < 0.5 * exp_side.max()
                    and exp_side.max() >= 0.5 * expected[p].max()
                )
                if illuminated:
                    obs_lag = abs(lags[side][np.argmax(obs_side)])
                    name = "causal" if side[-1] else "acausal"
                    checked.append((chunk.station1[p], chunk.station2[p], name, t_arrival, obs_lag))
                    sides.append(side)
            both_sides += len(sides) == 2
    wrong = [c for c in checked if abs(c[4] - c[3]) > PERIOD_S]
    assert len(checked) >= 10 and both_sides >= 1, (len(checked), both_sides)
    assert not wrong, f"envelope peaks off distance/velocity by more than {PERIOD_S} s: {wrong}"

    # the moveout rule's envelope picks (same band) agree with the ones computed here
    picks = pd.read_csv(work / "results/noise/moveout_ZZ.csv").set_index(["station1", "station2"])
    assert len(picks) == sum(c.n_pair for c in chunks)
    for s1, s2, side, _, obs_lag in checked:
        assert picks.loc[(s1, s2), f"{side}_lag_s"] == pytest.approx(obs_lag, abs=0.5)
    assert (work / "results/noise/moveout_ZZ.png").stat().st_size > 20_000


# -- SAC output, reruns, upload ---------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> Path:
    """The short demo (config/test.yaml) with the noise branch, run once."""
    work = make_workdir(tmp_path_factory.mktemp("noise") / "wf")
    write_config(work, "noise.yaml", {**BRANCHES_OFF, "noise": NOISE_SHORT})
    run_snakemake(work, "--configfile", "config/test.yaml", "noise.yaml")
    return work


def copy_run(short_run: Path, dest: Path) -> Path:
    shutil.copytree(short_run, dest, symlinks=True)
    return dest


ARGS = ("--configfile", "config/test.yaml", "noise.yaml")


def test_sac_files_hold_the_stacks_with_appendix_a_headers(short_run):
    stacks = read_stacks(short_run / "results/noise/stack/00.h5")
    assert stacks.n_pair > 0
    with h5py.File(short_run / "results/noise/ccf/2024-01-01.h5") as h5:
        s1 = h5["pairs/station1"].asstr()[()].tolist()
        s2 = h5["pairs/station2"].asstr()[()].tolist()
        ngood = {(a, b): int(n) for a, b, n in zip(s1, s2, h5["ngood"][:, 0, 0], strict=True)}
    with h5py.File(short_run / "results/noise/ccf/2024-01-02.h5") as h5:
        s1 = h5["pairs/station1"].asstr()[()].tolist()
        s2 = h5["pairs/station2"].asstr()[()].tolist()
        for a, b, n in zip(s1, s2, h5["ngood"][:, 0, 0], strict=True):
            ngood[(a, b)] = ngood.get((a, b), 0) + int(n)
    for p in range(stacks.n_pair):
        cha1, cha2 = stacks.channel1[p, 0], stacks.channel2[p, 0]
        name = f"{stacks.station1[p]}.{cha1}--{stacks.station2[p]}.{cha2}.sac"
        trace = read_correlation_sac(short_run / "results/noise/sac/00/linear" / name)
        np.testing.assert_allclose(trace.data, stacks.stacks["linear"][p, 0], rtol=1e-5)
        np.testing.assert_allclose(trace.lags_s, stacks.lags_s, atol=1e-4)  # SAC: float32
        assert trace.n_stacked == ngood[(stacks.station1[p], stacks.station2[p])]
        assert trace.dist_m == pytest.approx(stacks.distance_km[p] * 1000.0, rel=1e-6)
        assert (trace.lat1, trace.lon1) == pytest.approx(tuple(stacks.coords1[p, :2]))
        assert (trace.window_length_s, trace.window_overlap) == (300.0, 0.5)
        assert (trace.first_day, trace.last_day) == ("2024001", "2024002")


def test_new_day_and_freqmin_rerun_only_their_jobs(short_run, tmp_path):
    work = copy_run(short_run, tmp_path / "wf")
    ccf = work / "results/noise/ccf"
    old = {p.name: p.stat().st_mtime for p in ccf.glob("*.h5")}

    before = benchmark_mtimes(work)
    proc = run_snakemake(work, *ARGS)
    assert "Nothing to be done" in proc.stdout + proc.stderr

    run_snakemake(work, *ARGS, "--config", "end_date=2024-01-04")
    ran = jobs_run(before, benchmark_mtimes(work))
    assert noise_jobs(ran) == {
        "cross_correlate/2024-01-03",
        "stack/00",
        "stack/01",
        "moveout/ZZ",
    }
    assert old == {p.name: p.stat().st_mtime for p in ccf.glob("*.h5") if p.name in old}
    assert read_stacks(work / "results/noise/stack/00.h5").days == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]

    write_config(work, "freqmin.yaml", {"noise": {"freqmin": 0.2}})
    before = benchmark_mtimes(work)
    run_snakemake(work, *ARGS, "freqmin.yaml", "--config", "end_date=2024-01-04")
    ran = jobs_run(before, benchmark_mtimes(work))
    assert ran == {
        "noise/cross_correlate/2024-01-01.tsv",
        "noise/cross_correlate/2024-01-02.tsv",
        "noise/cross_correlate/2024-01-03.tsv",
        "noise/stack/00.tsv",
        "noise/stack/01.tsv",
        "noise/moveout/ZZ.tsv",
    }
    with h5py.File(ccf / "2024-01-01.h5") as h5:
        assert h5["params"].attrs["freqmin"] == 0.2


def test_upload_writes_the_stacks_to_s3_with_environment_credentials(
    short_run, tmp_path, s3_endpoint
):
    work = copy_run(short_run, tmp_path / "wf")
    creds = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        region_name=creds["AWS_DEFAULT_REGION"],
    )
    s3.create_bucket(Bucket="noise-stacks")
    upload = {"enabled": True, "url": "s3://noise-stacks/demo", "endpoint_url": s3_endpoint}
    write_config(work, "upload.yaml", {"noise": {"upload": upload}})
    args = (*ARGS, "upload.yaml")

    # no credentials in the environment (nor in a file): the upload fails, naming the object
    no_creds = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    proc = run_snakemake(work, *args, check=False, env=no_creds)
    assert proc.returncode != 0
    log = (work / "logs/noise/upload.log").read_text()
    assert "s3://noise-stacks/demo/" in log and "upload failed" in log
    assert not (work / "results/noise/upload.json").exists()

    before = benchmark_mtimes(work)
    run_snakemake(work, *args, env={**no_creds, **creds})
    assert jobs_run(before, benchmark_mtimes(work)) == {"noise/upload.tsv"}
    listed = s3.list_objects_v2(Bucket="noise-stacks", Prefix="demo/")["Contents"]
    remote = {o["Key"]: o["ETag"].strip('"') for o in listed}
    local = {
        "demo/" + p.relative_to(work / "results/noise").as_posix(): hashlib.md5(
            p.read_bytes()
        ).hexdigest()
        for p in [
            *(work / "results/noise/stack").glob("*.h5"),
            *(work / "results/noise/sac").rglob("*.sac"),
        ]
    }
    assert remote == local
    receipt = json.loads((work / "results/noise/upload.json").read_text())
    assert {o["key"] for o in receipt["objects"]} == {f"s3://noise-stacks/{k}" for k in local}
    assert "testing" not in (work / "results/noise/upload.json").read_text()


# -- a bad day ---------------------------------------------------------------------------------


def test_bad_day_gives_an_empty_file_with_the_reason_and_stacks_run(tmp_path, small_archive):
    archive = tmp_path / "archive"
    shutil.copytree(small_archive, archive)
    bad = sorted((archive / "continuous_waveforms/2024/2024_002").glob("*.ms"))
    assert bad
    for path in bad:
        path.write_bytes(b"not miniSEED at all " * 200)
    work = make_workdir(tmp_path / "wf")
    cfg = {
        **external_archive_config(str(archive), "2024-01-01", "2024-01-04"),
        # in 600-s days one local event can reject every window of a station: not tested here
        "noise": {**NOISE_SHORT, "max_over_std": 1000.0},
    }
    run_snakemake(work, "results/noise/moveout_ZZ.csv", *write_config(work, "bad.yaml", cfg))

    with h5py.File(work / "results/noise/ccf/2024-01-02.h5") as h5:
        assert h5.attrs["n_pair"] == 0
        assert h5["data"].shape[0] == 0 and h5["data"].ndim == 4
        reason = str(h5.attrs["reason"])
        dropped = h5["channels/dropped"].asstr()[()]
    assert "none of the" in reason and "corrupt miniSEED" in reason
    assert sum("corrupt miniSEED" in d for d in dropped) == len(
        [p for p in bad if p.name.startswith("SY") and p.name[2] == "S" and p.name[9] == "Z"]
    )
    log = (work / "logs/noise/cross_correlate/2024-01-02.log").read_text()
    assert reason in log

    stacks = [read_stacks(p) for p in sorted((work / "results/noise/stack").glob("*.h5"))]
    assert all(s.days == ["2024-01-01", "2024-01-02", "2024-01-03"] for s in stacks)
    ndays = {
        (a, b): n for s in stacks for a, b, n in zip(s.station1, s.station2, s.ndays, strict=True)
    }
    assert len(ndays) == 28
    # day 2 is lost; S04 also misses day 3 (a defect of the demo)
    assert {k: v for k, v in ndays.items() if "SY.S04." in k} == dict.fromkeys(
        [k for k in ndays if "SY.S04." in k], 1
    )
    assert {v for k, v in ndays.items() if "SY.S04." not in k} == {2}
