"""Segmentor tables against the tables printed in the Cardinal user guide."""

import io

import numpy as np
import pandas as pd
import pytest

from seismake.array.fbands import extend_pmcc_fbands, make_custom_fbands, pmcc_fbands

# Printed in the Cardinal user guide (cell 2, ``cardinal.pmcc_fbands()``), first 10 rows.
GUIDE_PMCC = """\
,band,fmin,fcenter,fmax,win,step
0,1,0.01,0.0126,0.0151,200.0,20.0
1,2,0.0151,0.019,0.0229,142.1606,14.2161
2,3,0.0229,0.0288,0.0347,103.9404,10.394
3,4,0.0347,0.0436,0.0524,78.6846,7.8685
4,5,0.0524,0.0659,0.0794,61.9956,6.1996
5,6,0.0794,0.0997,0.1201,50.9676,5.0968
6,7,0.1201,0.1509,0.1818,43.6803,4.368
7,8,0.1818,0.2284,0.2751,38.8648,3.8865
8,9,0.2751,0.3457,0.4163,35.6828,3.5683
9,10,0.4163,0.5231,0.63,33.5801,3.358
"""

# Printed in the guide (cell 5, ``make_custom_fbands(f_min=0.01, f_max=50, win_min=3,
# win_max=200, overlap=0.1, type='third_octave')``), first 10 rows.
GUIDE_THIRD_OCTAVE = """\
,band,fmin,fcenter,fmax,win,step
0,1.0,0.01,0.0113,0.012599,177.337841,17.733784
1,2.0,0.012599,0.014237,0.015874,141.363906,14.136391
2,3.0,0.015874,0.017937,0.02,112.811375,11.281138
3,4.0,0.02,0.022599,0.025198,90.149217,9.014922
4,5.0,0.025198,0.028473,0.031748,72.162249,7.216225
5,6.0,0.031748,0.035874,0.04,57.885984,5.788598
6,7.0,0.04,0.045198,0.050397,46.554904,4.65549
7,8.0,0.050397,0.056946,0.063496,37.561421,3.756142
8,9.0,0.063496,0.071748,0.08,30.423288,3.042329
9,10.0,0.08,0.090397,0.100794,24.757748,2.475775
"""

VALUE_COLUMNS = ["fmin", "fcenter", "fmax", "win", "step"]


def _guide(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), index_col=0)


def test_pmcc_table_matches_guide_to_4_decimals():
    expected = _guide(GUIDE_PMCC)
    got = pmcc_fbands()
    assert list(got.columns) == ["band", "fmin", "fcenter", "fmax", "win", "step"]
    assert len(got) == 15
    head = got.iloc[: len(expected)]
    np.testing.assert_array_equal(head["band"].to_numpy(), expected["band"].to_numpy())
    for col in VALUE_COLUMNS:
        np.testing.assert_allclose(
            np.round(head[col].to_numpy(), 4),
            expected[col].to_numpy(),
            rtol=0,
            atol=1e-12,
            err_msg=col,
        )


def test_pmcc_rule_last_bands():
    """Rows 11-15 (not printed in the guide) follow the rule of Matoza et al. (2013)."""
    got = pmcc_fbands()
    edges = 0.01 * 500.0 ** (np.arange(16) / 15)
    np.testing.assert_allclose(got["fmin"], edges[:-1], rtol=1e-12)
    np.testing.assert_allclose(got["fmax"], edges[1:], rtol=1e-12)
    assert got["fmax"].iloc[-1] == pytest.approx(5.0)
    assert got["win"].iloc[0] == pytest.approx(200.0)
    assert got["win"].iloc[-1] == pytest.approx(30.0)
    np.testing.assert_allclose(got["step"], 0.1 * got["win"], rtol=1e-12)
    # window linear in the period 1 / fmin: second differences vanish against period
    slope = np.diff(got["win"]) / np.diff(1.0 / got["fmin"])
    np.testing.assert_allclose(slope, slope[0], rtol=1e-10)


def test_third_octave_table_matches_guide_to_4_decimals():
    expected = _guide(GUIDE_THIRD_OCTAVE)
    got = make_custom_fbands(
        f_min=0.01, f_max=50, win_min=3, win_max=200, overlap=0.1, type="third_octave"
    )
    head = got.iloc[: len(expected)]
    np.testing.assert_array_equal(head["band"].to_numpy(), expected["band"].to_numpy())
    for col in VALUE_COLUMNS:
        np.testing.assert_allclose(
            head[col].to_numpy(), expected[col].to_numpy(), rtol=0, atol=5e-5, err_msg=col
        )
    # the guide prints 6 decimals for most entries: those agree to 6 decimals too
    np.testing.assert_allclose(head["win"], expected["win"], rtol=0, atol=5e-7)
    # 0.01 * 2**(k/3) <= 50 for k <= 36
    assert len(got) == 36
    assert got["fmax"].iloc[-1] <= 50.0 < got["fmax"].iloc[-1] * 2 ** (1 / 3)


@pytest.mark.parametrize(
    ("kind", "ratio", "n_expected"), [("octave", 2.0, 12), ("decade", 10.0, 3)]
)
def test_custom_bands_octave_decade(kind, ratio, n_expected):
    got = make_custom_fbands(f_min=0.01, f_max=50, win_min=3, win_max=200, overlap=0.5, type=kind)
    assert len(got) == n_expected
    np.testing.assert_allclose(got["fmax"] / got["fmin"], ratio, rtol=1e-12)
    np.testing.assert_allclose(got["fmin"].iloc[1:].to_numpy(), got["fmax"].iloc[:-1].to_numpy())
    np.testing.assert_allclose(got["fcenter"], 0.5 * (got["fmin"] + got["fmax"]))
    # window on the straight line through (1/f_min, win_max) and (1/f_max, win_min)
    period = 1.0 / got["fcenter"].to_numpy()
    line = 200.0 + (period - 100.0) * (3.0 - 200.0) / (1.0 / 50.0 - 100.0)
    np.testing.assert_allclose(got["win"], line, rtol=1e-12)
    np.testing.assert_allclose(got["step"], 0.5 * got["win"], rtol=1e-12)


def test_extend_pmcc_continues_spacing_and_window_rule():
    base = pmcc_fbands()
    ext = extend_pmcc_fbands(base, 20.0)
    ratio = 500.0 ** (1 / 15)
    # 5 * ratio**k <= 20  ->  k <= 3
    assert len(ext) == 18
    pd.testing.assert_frame_equal(ext.iloc[:15], base)
    new = ext.iloc[15:]
    np.testing.assert_array_equal(new["band"], [16, 17, 18])
    np.testing.assert_allclose(new["fmin"], 5.0 * ratio ** np.arange(3), rtol=1e-9)
    np.testing.assert_allclose(new["fmax"], 5.0 * ratio ** np.arange(1, 4), rtol=1e-9)
    assert new["fmax"].iloc[-1] <= 20.0 < new["fmax"].iloc[-1] * ratio
    # same PMCC line: 200 s at period 100 s, 30 s at period 1/3.304 s
    p_last = 1.0 / (0.01 * ratio**14)
    line = 30.0 + (1.0 / new["fmin"] - p_last) * 170.0 / (100.0 - p_last)
    np.testing.assert_allclose(new["win"], line, rtol=1e-9)
    np.testing.assert_allclose(new["step"], 0.1 * new["win"], rtol=1e-9)
    assert np.all(np.diff(ext["win"]) < 0)
    assert len(extend_pmcc_fbands(base, 5.0)) == 15


def test_bad_band_requests():
    with pytest.raises(ValueError, match="unknown band type"):
        make_custom_fbands(type="fifth_octave")
    with pytest.raises(ValueError, match="f_min < f_max"):
        make_custom_fbands(f_min=5, f_max=1)
    with pytest.raises(ValueError, match="no octave band"):
        make_custom_fbands(f_min=1, f_max=1.5, type="octave")
