"""Contiguous HDF5 datasets written past the page cache read back as written."""

import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from seismake import directio
from seismake.directio import ALIGN, DirectDataset, contiguous_offset, create_direct_dataset

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


@pytest.mark.parametrize("stage_bytes", [None, 5000])
def test_runs_of_any_alignment_read_back(directory, stage_bytes, monkeypatch):
    if stage_bytes:  # runs staged a row or a few at a time
        monkeypatch.setattr(directio, "STAGE_BYTES", stage_bytes)
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
        dset = h5["data"]
        with DirectDataset(str(path), contiguous_offset(dset), dset.shape, dset.dtype) as d:
            whole = np.empty_like(truth)
            d.read(slice(None), whole)
            np.testing.assert_array_equal(whole, truth)
            strided = np.zeros((2, 3, 9, 1001), dtype=np.float32)[:, :, 1:8]
            d.read(np.s_[2, 1:3], strided[:, 0])  # unaligned run into a strided view
            np.testing.assert_array_equal(strided[:, 0], truth[2, 1:3])
            with pytest.raises(ValueError, match="read into"):
                d.read(3, whole)


def test_chunked_datasets_have_no_contiguous_offset(tmp_path):
    with h5py.File(tmp_path / "c.h5", "w") as h5:
        chunked = h5.create_dataset("c", data=np.ones((4, 100)), chunks=(1, 100))
        plain = h5.create_dataset("p", data=np.ones((4, 100)))
        assert contiguous_offset(chunked) is None
        assert contiguous_offset(plain) > 0


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
    d.close()  # closing twice is harmless
    truth[1, 2] = -1.0
    with h5py.File(path, "r") as h5:
        np.testing.assert_array_equal(h5["data"][()], truth)


def test_bytes_never_written_read_as_zeros(tmp_path):
    path = tmp_path / "sparse.h5"
    row = np.linspace(1.0, 2.0, 5000, dtype=np.float32)
    with h5py.File(path, "w") as h5, create_direct_dataset(h5, "data", (3, 5000)) as d:
        d[1] = row
        h5.attrs["written_after"] = 1
    with h5py.File(path, "r") as h5:
        back = h5["data"][()]
    np.testing.assert_array_equal(back[1], row)
    assert not back[[0, 2]].any()
