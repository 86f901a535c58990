"""Large HDF5 datasets written past the page cache (``O_DIRECT``).

A day of per-window correlations is gigabytes that the job writes once and a later
job reads. Through the page cache every page written is first allocated and zeroed
by the kernel, which on virtual machines (whose memory is backed on first touch)
costs several times the write itself; ``O_DIRECT`` hands the bytes to the device
instead. :func:`create_direct_dataset` allocates a contiguous dataset in an open
HDF5 file and returns a :class:`DirectDataset` that writes its byte ranges
straight into the file, outside the HDF5 library: the layout of a contiguous
dataset is its C-ordered little-endian bytes at one file offset. Where the file
system refuses ``O_DIRECT`` (tmpfs, some network file systems) the writes are
ordinary ``pwrite`` calls.
"""

from __future__ import annotations

import mmap
import os

import h5py
import numpy as np

#: file offsets, sizes and memory addresses of unbuffered writes are multiples of this
ALIGN = 4096
#: bytes copied to an aligned buffer and written per unbuffered write
STAGE_BYTES = 16 * 2**20


def create_direct_dataset(
    h5: h5py.File, name: str, shape: tuple[int, ...], dtype: str = "<f4"
) -> DirectDataset:
    """Create a contiguous dataset with its file space allocated now, unwritten.

    Parameters
    ----------
    h5 : h5py.File
        Open for writing; the file's path is opened a second time for the data.
    name : str
        Dataset name in the file's root group.
    shape : tuple of int
        Dataset shape (at least one element).
    dtype : str
        Little-endian numpy dtype of the stored values.
    """
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    space = h5py.h5s.create_simple(tuple(shape))
    dsid = h5py.h5d.create(
        h5.id, name.encode(), h5py.h5t.py_create(np.dtype(dtype)), space, dcpl=dcpl
    )
    offset = dsid.get_offset()
    if offset is None:
        raise ValueError(f"{h5.filename}: dataset {name} of shape {shape} has no storage")
    h5.flush()
    return DirectDataset(h5.filename, offset, tuple(shape), np.dtype(dtype))


class DirectDataset:
    """Write access to a contiguous dataset's bytes in its file.

    ``dataset[index] = values`` for an ``index`` that selects a contiguous run of
    the C-ordered array: integers on leading axes, optionally ending with a slice of
    step 1 (e.g. ``d[3]``, ``d[2, 5]``, ``d[10:20]``, ``d[4, 0:3]``). Use as a
    context manager, or call :meth:`close`.
    """

    def __init__(self, path: str, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path, self.offset, self.shape, self.dtype = path, offset, shape, dtype
        self._fd = os.open(path, os.O_WRONLY)
        try:
            self._direct: int | None = os.open(path, os.O_WRONLY | os.O_DIRECT)
        except OSError:
            self._direct = None
        self._stage: mmap.mmap | None = None

    def __enter__(self) -> DirectDataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file descriptors (the data are then in the file)."""
        for fd in (self._fd, self._direct):
            if fd is not None:
                os.close(fd)
        self._fd, self._direct = -1, None
        if self._stage is not None:
            self._stage.close()
            self._stage = None

    def _byte_range(self, key) -> tuple[int, tuple[int, ...]]:
        """File offset and shape of the run selected by ``key``."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > len(self.shape):
            raise IndexError(f"{self.path}: too many indices {key} for shape {self.shape}")
        strides = np.cumprod((1, *self.shape[::-1]))[::-1][1:] * self.dtype.itemsize
        start, shape = 0, list(self.shape)
        for axis, k in enumerate(key):
            if isinstance(k, slice):
                lo, hi, step = k.indices(self.shape[axis])
                if step != 1 or axis != len(key) - 1:
                    raise IndexError(f"{self.path}: index {key} is not a contiguous run")
                start += lo * int(strides[axis])
                shape = [max(0, hi - lo), *self.shape[axis + 1 :]]
                break
            k = int(k)
            if not -self.shape[axis] <= k < self.shape[axis]:
                raise IndexError(f"{self.path}: index {k} out of range for axis {axis}")
            start += (k % self.shape[axis]) * int(strides[axis])
            shape = list(self.shape[axis + 1 :])
        return self.offset + start, tuple(shape)

    def __setitem__(self, key, values) -> None:
        offset, shape = self._byte_range(key)
        data = np.ascontiguousarray(np.broadcast_to(values, shape), dtype=self.dtype)
        self._write(memoryview(data).cast("B"), offset)

    def _write(self, buf: memoryview, offset: int) -> None:
        end = offset + len(buf)
        lo = -(-offset // ALIGN) * ALIGN
        hi = end // ALIGN * ALIGN
        if self._direct is not None and hi > lo:
            if self._stage is None:
                self._stage = mmap.mmap(-1, STAGE_BYTES)  # page-aligned, reused
            stage = memoryview(self._stage)
            try:
                for a in range(lo, hi, STAGE_BYTES):
                    n = min(STAGE_BYTES, hi - a)
                    stage[:n] = buf[a - offset : a - offset + n]
                    _pwrite_all(self._direct, stage[:n], a)
            except OSError:  # the file system refuses O_DIRECT after all
                os.close(self._direct)
                self._direct = None
            else:
                _pwrite_all(self._fd, buf[: lo - offset], offset)
                _pwrite_all(self._fd, buf[hi - offset :], hi)
                return
            finally:
                stage.release()
        _pwrite_all(self._fd, buf, offset)


def _pwrite_all(fd: int, buf: memoryview, offset: int) -> None:
    while len(buf):
        n = os.pwrite(fd, buf, offset)
        buf, offset = buf[n:], offset + n
