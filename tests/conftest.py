"""Shared fixtures: a small demo archive, a local S3 server (moto), snakemake runs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from seismake.synth import DemoSpec, write_demo_archive

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOW_FILES = ["Snakefile", "rules", "scripts", "envs", "config", "report"]

#: every branch off: the archive part of the workflow alone
BRANCHES_OFF = {b: {"enabled": False} for b in ("noise", "noisi", "array", "classify", "locate")}


def external_archive_config(url: str, start: str, end: str, **archive) -> dict:
    """Config of a run on an existing archive (demo off, every branch off).

    ``archive`` overrides keys of the archive section (endpoint_url, retries, ...).
    """
    return {
        **BRANCHES_OFF,
        "start_date": start,
        "end_date": end,
        "archive": {
            "url": url,
            "layout": "scedc",
            "anon": True,
            "endpoint_url": None,
            "stationxml": None,
            "retries": 1,
            "backoff_s": 0.1,
            "timeout_s": 5,
            **archive,
        },
        "demo": {"enabled": False, "seed": 7, "day_length_s": 600},
    }


#: the short demo the tests share: three days of 600 s (S04 lacks the third)
SMALL_SPEC = DemoSpec(seed=7, start="2024-01-01", n_days=3, day_length_s=600.0)


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    """A three-day demo archive of 600 s days (read-only: copy it before changing it)."""
    root = tmp_path_factory.mktemp("archive") / "demo"
    write_demo_archive(root, SMALL_SPEC)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A real S3 server (moto) on 127.0.0.1 for the session; yields its endpoint URL."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("moto_server did not start")
    yield endpoint
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture
def aws_credentials(monkeypatch):
    """Credentials for the local S3 server, set in the environment only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def make_workdir(path: Path) -> Path:
    """Copy the workflow (Snakefile, rules, scripts, envs, config, report) into ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, path / name)
        else:
            shutil.copy2(src, path / name)
    return path


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real ``snakemake`` in ``workdir``; returns the completed process.

    The environment is the test's, without AWS credentials unless ``env`` adds them.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env = {**base, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", "--nocolor", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def benchmark_mtimes(workdir: Path) -> dict[str, float]:
    """Modification time of every rule benchmark file: one per job that ran."""
    bench = workdir / "logs" / "benchmarks"
    return {str(p.relative_to(bench)): p.stat().st_mtime for p in bench.rglob("*.tsv")}


def jobs_run(before: dict[str, float], after: dict[str, float]) -> set[str]:
    """Benchmark files created or rewritten between two snapshots: the jobs that ran."""
    return {k for k, t in after.items() if before.get(k) != t}
