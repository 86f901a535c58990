"""Archive access against a real local S3 server (moto on 127.0.0.1)."""

from __future__ import annotations

import json

import boto3
import pytest
import s3fs
import yaml
from obspy import UTCDateTime

from seismake.archive import (
    AccessDenied,
    Archive,
    ArchiveSpec,
    ArchiveUnreachable,
    Selection,
    build_manifest,
)
from tests.conftest import external_archive_config, free_port, make_workdir, run_snakemake

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def upload_public(endpoint: str, bucket: str, root) -> int:
    """Upload an archive directory into ``bucket`` with public-read objects."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket=bucket, ACL="public-read")
    n = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ACL="public-read")
        n += 1
    return n


@pytest.fixture(scope="module")
def public_bucket(s3_endpoint, small_archive):
    upload_public(s3_endpoint, "scedc-demo", small_archive)
    return "scedc-demo"


def test_anonymous_manifest_matches_local(s3_endpoint, public_bucket, small_archive):
    day = UTCDateTime("2024-01-01")
    remote = Archive(ArchiveSpec(url=f"s3://{public_bucket}", endpoint_url=s3_endpoint, anon=True))
    local = Archive(ArchiveSpec(url=str(small_archive)))
    m_s3 = build_manifest(remote, day, Selection())
    m_local = build_manifest(local, day, Selection())
    assert m_s3.objects, "nothing listed"
    # same objects, sizes and checksums (single-part ETags are MD5s), same metadata
    assert m_s3.objects == m_local.objects
    assert m_s3.channels == m_local.channels
    assert m_s3.stationxml == m_local.stationxml
    st = remote.read_stream(m_s3.objects[0]["path"])
    assert st[0].id == m_s3.objects[0]["seed_id"]


def test_manifest_rule_through_snakemake_anonymous(s3_endpoint, public_bucket, tmp_path):
    work = make_workdir(tmp_path / "wf")
    cfg = external_archive_config(
        f"s3://{public_bucket}",
        "2024-01-01",
        "2024-01-03",
        endpoint_url=s3_endpoint,
        retries=2,
        timeout_s=10,
    )
    (work / "s3.yaml").write_text(yaml.safe_dump(cfg))
    run_snakemake(work, "--configfile", "s3.yaml")
    for day in ("2024-01-01", "2024-01-02"):
        man = json.loads((work / "results" / "manifest" / f"{day}.json").read_text())
        assert man["archive"]["url"] == f"s3://{public_bucket}"
        assert len(man["objects"]) > 10
        assert all(o["etag"].startswith("md5:") for o in man["objects"])
        problems = json.loads(
            (work / f"results/archive/availability/{day}.problems.json").read_text()
        )
        assert problems["problems"] == []
    assert (work / "results" / "archive" / "availability.png").stat().st_size > 10_000
    assert "AWS_SECRET" not in (work / "results/manifest/2024-01-01.json").read_text()


def test_private_bucket_written_with_credentials_refuses_anonymous(
    s3_endpoint, aws_credentials, small_archive
):
    # credentials come from the environment only (aws_credentials fixture)
    fs = s3fs.S3FileSystem(anon=False, endpoint_url=s3_endpoint)
    fs.mkdir("private-stacks")
    src = next(small_archive.rglob("*.ms"))
    key = f"private-stacks/continuous_waveforms/2024/2024_001/{src.name}"
    fs.pipe(key, src.read_bytes())
    owner = Archive(ArchiveSpec(url="s3://private-stacks", endpoint_url=s3_endpoint, anon=False))
    rel = key.split("/", 1)[1]
    assert owner.read_bytes(rel) == src.read_bytes()
    anonymous = Archive(ArchiveSpec(url="s3://private-stacks", endpoint_url=s3_endpoint, anon=True))
    with pytest.raises(AccessDenied, match=src.name):
        anonymous.read_bytes(rel)


def test_unreachable_endpoint_is_named():
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    spec = ArchiveSpec(
        url="s3://scedc-pds", endpoint_url=endpoint, retries=2, backoff_s=0.05, timeout_s=2
    )
    with pytest.raises(ArchiveUnreachable, match=f"{endpoint}.*unreachable after 2"):
        build_manifest(Archive(spec), UTCDateTime("2024-01-01"), Selection())


def test_unreachable_endpoint_through_snakemake(tmp_path):
    work = make_workdir(tmp_path / "wf")
    endpoint = f"http://127.0.0.1:{free_port()}"
    cfg = external_archive_config(
        "s3://scedc-pds", "2024-01-01", "2024-01-02", endpoint_url=endpoint, timeout_s=2
    )
    (work / "bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(work, "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "ArchiveUnreachable" in out and endpoint in out
    log = (work / "logs" / "manifest" / "2024-01-01.log").read_text()
    assert endpoint in log
