"""Contiguous HDF5 datasets written past the page cache read back as written."""

import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from seismake.directio import ALIGN, create_direct_dataset

TMPFS = Path("/dev/shm")


@pytest.fixture(params=["disk", "tmpfs"])
def directory(request, tmp_path):
    """The test's directory on disk, or one in memory (tmpfs; older kernels refuse O_DIRECT)."""
    if request.param == "disk":
        yield tmp_path
        return
    shm = Path(tempfile.mkdtemp(prefix="seismake-test-", dir=TMPFS))
    yield shm
    shutil.rmtree(shm)


def test_runs_of_any_alignment_read_back(directory):
    path = directory / "d.h5"
    rng = np.random.default_rng(1)
    # 3 * 7 * 1001 float32: rows of 4004 bytes, so most runs start and end unaligned
    truth = rng.standard_normal((5, 3, 7, 1001)).astype(np.float32)
    with h5py.File(path, "w") as h5:
        h5.attrs["before"] = 1
        with create_direct_dataset(h5, "data", truth.shape) as d:
            d[0:2] = truth[0:2]
            d[2, 0] = truth[2, 0]
            d[2, 1:3] = truth[2, 1:3]
            d[3:] = truth[3:]
            assert d.offset % 8 == 0
        h5.attrs["after"] = 2
        h5.create_dataset("more", data=np.arange(10))
    with h5py.File(path, "r") as h5:
        np.testing.assert_array_equal(h5["data"][()], truth)
        assert h5.attrs["before"] == 1 and h5.attrs["after"] == 2
        np.testing.assert_array_equal(h5["more"][()], np.arange(10))


def test_large_aligned_run_and_bad_indices(tmp_path):
    path = tmp_path / "big.h5"
    truth = np.arange(4 * 3 * ALIGN, dtype=np.float32).reshape(4, 3, ALIGN)
    with h5py.File(path, "w") as h5, create_direct_dataset(h5, "data", truth.shape) as d:
        d[:] = truth
        d[1, 2] = -1.0  # broadcast into a run
        with pytest.raises(IndexError, match="not a contiguous run"):
            d[0:2, 1] = 0.0
        with pytest.raises(IndexError, match="out of range"):
            d[4] = 0.0
    truth[1, 2] = -1.0
    with h5py.File(path, "r") as h5:
        np.testing.assert_array_equal(h5["data"][()], truth)
