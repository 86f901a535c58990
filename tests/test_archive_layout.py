"""Archive layouts: SCEDC and SDS names, both ways, and channel selection."""

import pytest

from seismake.archive.layout import ChannelDay, Selection, get_layout


@pytest.mark.parametrize(
    "name, codes",
    [
        ("CIGSC__BHZ___2017180.ms", ("CI", "GSC", "", "BHZ", 2017, 180)),
        ("BKTHIS_LHZ00_2022002.ms", ("BK", "THIS", "00", "LHZ", 2022, 2)),
        ("SYAR01_BHZ___2024001.ms", ("SY", "AR01", "", "BHZ", 2024, 1)),
    ],
)
def test_scedc_names_round_trip(name, codes):
    scedc = get_layout("scedc")
    cd = scedc.parse(name)
    assert cd == ChannelDay(*codes)
    year, doy = codes[4], codes[5]
    assert scedc.path(cd) == f"continuous_waveforms/{year}/{year}_{doy:03d}/{name}"


def test_scedc_rejects_other_files():
    scedc = get_layout("scedc")
    assert scedc.parse("README.txt") is None
    assert scedc.parse("CIGSC__BHZ___2017180.ms.tmp") is None


def test_sds_round_trip():
    sds = get_layout("sds")
    cd = ChannelDay("SY", "S01", "", "BHZ", 2024, 3)
    path = sds.path(cd)
    assert path == "2024/SY/S01/BHZ.D/SY.S01..BHZ.D.2024.003"
    assert sds.parse(path.rsplit("/", 1)[1]) == cd


def test_unknown_layout_is_named():
    with pytest.raises(ValueError, match="'sdx'"):
        get_layout("sdx")


def test_selection_patterns():
    sel = Selection.from_config(
        {"networks": ["CI"], "stations": ["RPV", "S*"], "channels": ["BH?"], "locations": ["*"]}
    )
    assert sel.accepts(ChannelDay("CI", "RPV", "", "BHZ", 2002, 1))
    assert sel.accepts(ChannelDay("CI", "SVD", "00", "BHN", 2002, 1))
    assert not sel.accepts(ChannelDay("CI", "BBR", "", "BHZ", 2002, 1))
    assert not sel.accepts(ChannelDay("CI", "RPV", "", "HHZ", 2002, 1))
    assert not sel.accepts(ChannelDay("BK", "RPV", "", "BHZ", 2002, 1))
    only_empty = Selection(locations=("--",))
    assert only_empty.accepts(ChannelDay("CI", "RPV", "", "BHZ", 2002, 1))
    assert not only_empty.accepts(ChannelDay("CI", "RPV", "00", "BHZ", 2002, 1))
