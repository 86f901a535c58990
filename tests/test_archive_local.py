"""Archive access on a local demo archive: manifests, checksums, layouts, bad input."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest
from obspy import UTCDateTime, read

from seismake.archive import (
    Archive,
    ArchiveSpec,
    ArchiveUnreachable,
    ChannelDay,
    Selection,
    build_manifest,
    get_layout,
    read_manifest,
    scan_day,
    write_if_changed,
)

DAY1, DAY2, DAY3 = (UTCDateTime(f"2024-01-0{d}") for d in (1, 2, 3))


def test_manifest_has_every_station_with_truth_coordinates(small_archive):
    archive = Archive(ArchiveSpec(url=str(small_archive)))
    man = build_manifest(archive, DAY1, Selection())
    truth = pd.read_csv(small_archive / "truth" / "stations.csv", keep_default_na=False)
    assert man.stations == sorted(f"{r.network}.{r.station}" for r in truth.itertuples())
    assert man.skipped == []
    for row in truth.itertuples():
        for cha in row.channels.split():
            meta = man.channels[f"{row.network}.{row.station}.{row.location}.{cha}"]
            assert meta["latitude"] == pytest.approx(row.latitude, abs=1e-9)
            assert meta["longitude"] == pytest.approx(row.longitude, abs=1e-9)
            assert meta["sampling_rate"] == row.sampling_rate_hz
            assert meta["has_response"]
    for obj in man.objects:
        data = (small_archive / obj["path"]).read_bytes()
        assert obj["size"] == len(data)
        assert obj["etag"] == "md5:" + hashlib.md5(data).hexdigest()


def test_selection_and_missing_station_day(small_archive):
    archive = Archive(ArchiveSpec(url=str(small_archive)))
    only_z = build_manifest(archive, DAY1, Selection(channels=("BHZ",), stations=("S*",)))
    assert {o["channel"] for o in only_z.objects} == {"BHZ"}
    assert all(o["station"].startswith("S") for o in only_z.objects)
    # the demo drops one station's whole third day
    day1 = build_manifest(archive, DAY1, Selection())
    day3 = build_manifest(archive, DAY3, Selection())
    assert set(day1.stations) - set(day3.stations) == {"SY.S04"}


def test_write_if_changed(small_archive, tmp_path):
    archive = Archive(ArchiveSpec(url=str(small_archive)))
    man = build_manifest(archive, DAY1, Selection())
    path = tmp_path / "m.json"
    assert write_if_changed(man, path)
    assert not write_if_changed(build_manifest(archive, DAY1, Selection()), path)
    assert read_manifest(path) == man


def test_sds_layout_gives_the_same_objects(small_archive, tmp_path):
    scedc, sds = get_layout("scedc"), get_layout("sds")
    root = tmp_path / "sds"
    for path in (small_archive / "continuous_waveforms").rglob("*.ms"):
        cd = scedc.parse(path.name)
        dest = root / sds.path(cd)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    for xml in (small_archive / "FDSNstationXML").rglob("*.xml"):
        net, sta = xml.stem.split("_")
        (root / "stationxml").mkdir(exist_ok=True)
        shutil.copy(xml, root / "stationxml" / f"{net}.{sta}.xml")
    m_sds = build_manifest(Archive(ArchiveSpec(url=str(root), layout="sds")), DAY1, Selection())
    m_scedc = build_manifest(Archive(ArchiveSpec(url=str(small_archive))), DAY1, Selection())
    strip = [{k: v for k, v in o.items() if k != "path"} for o in m_sds.objects]
    key = lambda o: o["seed_id"]  # noqa: E731
    assert sorted(strip, key=key) == sorted(
        [{k: v for k, v in o.items() if k != "path"} for o in m_scedc.objects], key=key
    )
    assert m_sds.channels == m_scedc.channels


def test_missing_stationxml_and_unknown_channel_are_skipped(small_archive, tmp_path):
    root = tmp_path / "a"
    shutil.copytree(small_archive, root)
    (root / "FDSNstationXML" / "SY" / "SY_S01.xml").unlink()
    # a day file of a channel the StationXML does not describe
    src = next((root / "continuous_waveforms/2024/2024_001").glob("SYS02__BHZ*"))
    st = read(src)
    for tr in st:
        tr.stats.channel = "BHX"
    st.write(str(src.with_name(src.name.replace("BHZ", "BHX"))), format="MSEED")
    man = build_manifest(Archive(ArchiveSpec(url=str(root))), DAY1, Selection())
    reasons = {s["object"].rsplit("/", 1)[1]: s["reason"] for s in man.skipped}
    s01 = [n for n in reasons if n.startswith("SYS01")]
    assert len(s01) == 3 and all("SY_S01.xml: no such object" in reasons[n] for n in s01)
    assert "no epoch of channel SY.S02..BHX" in reasons[src.name.replace("BHZ", "BHX")]
    assert "SY.S01" not in man.stations and "SY.S02" in man.stations


def test_corrupt_miniseed_and_wrong_sampling_rate_are_reported(small_archive, tmp_path):
    root = tmp_path / "a"
    shutil.copytree(small_archive, root)
    files = sorted((root / "continuous_waveforms/2024/2024_001").glob("SYS0*"))
    files[0].write_bytes(files[0].read_bytes()[:100])  # truncated mid-record
    st = read(files[3])
    for tr in st:
        tr.stats.sampling_rate *= 2
    st.write(str(files[3]), format="MSEED")
    archive = Archive(ArchiveSpec(url=str(root)))
    man = build_manifest(archive, DAY1, Selection())
    segments, problems = scan_day(archive, man)
    by_name = {p["object"].rsplit("/", 1)[1]: p["reason"] for p in problems}
    assert set(by_name) == {files[0].name, files[3].name}
    assert "miniSEED" in by_name[files[0].name]
    assert "in data" in by_name[files[3].name] and "StationXML" in by_name[files[3].name]
    assert segments.seed_id.nunique() == len(man.objects) - 2


def test_gap_shows_in_segments(small_archive):
    archive = Archive(ArchiveSpec(url=str(small_archive)))
    man = build_manifest(archive, DAY2, Selection())
    segments, problems = scan_day(archive, man)
    assert problems == []
    counts = segments.seed_id.value_counts()
    assert (counts == 2).sum() == 1, "the demo has exactly one gap"


def test_missing_local_archive_is_unreachable(tmp_path):
    with pytest.raises(ArchiveUnreachable, match="does not exist"):
        build_manifest(Archive(ArchiveSpec(url=str(tmp_path / "nope"))), DAY1, Selection())


def test_channel_day_seed_id():
    assert ChannelDay("SY", "S01", "", "BHZ", 2024, 1).seed_id == "SY.S01..BHZ"
