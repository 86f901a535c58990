"""Source sensitivity kernels of correlation measurements.

For a pair (i, j) the modelled correlation is c(tau) = irfft(C) / dt with
C(f) = sum_k conj(G_i) G_j sum_b m_kb B_b(f) A_k. With the adjoint source
f(tau) = dJ/dc(tau), the derivative of the misfit with respect to the source
weight m_kb is A_k K_b(xi_k), where the kernel

    K_b(xi_k) = 1 / (dt N) sum_f w_f Re[conj(G_i) G_j B_b conj(F)](xi_k, f)

is the discrete form of sum_tau irfft(conj(G_i) G_j B_b)(tau) f(tau) dt / dt;
F is the rFFT of the adjoint source placed at its lags in the FFT buffer of
length N, and w_f = 2 except at zero and Nyquist frequency (1). Kernels are
densities: the cell areas enter when the gradient is assembled
(:func:`seismake.noisi.optimize.assemble_gradient`).

For all grid points at once the sum over frequencies is a matrix product
(ntraces x nfreq) @ (nfreq x nbasis nfilters) per pair. Pairs are independent;
with an MPI communicator they are split into contiguous blocks over the ranks
and gathered on rank 0, and every pair is computed by the same arithmetic as
in a serial run, so the results are identical.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from seismake.fileio import atomic_output
from seismake.noisi.forward import GreensSpectra, lag_indices
from seismake.noisi.measure import Band

logger = logging.getLogger(__name__)

_CHUNK_ELEMENTS = 2**21


def adjoint_spectra(adjoint: np.ndarray, n_fft: int) -> np.ndarray:
    """rFFT of adjoint sources placed at lags -L..L of an FFT buffer.

    Parameters
    ----------
    adjoint : np.ndarray
        Shape (..., 2 L + 1).
    n_fft : int
        FFT length of the Green's functions.

    Returns
    -------
    np.ndarray
        Complex, shape (..., n_fft // 2 + 1).
    """
    nlag = adjoint.shape[-1]
    buffer = np.zeros((*adjoint.shape[:-1], n_fft))
    buffer[..., lag_indices((nlag - 1) // 2, n_fft)] = adjoint
    return np.fft.rfft(buffer, axis=-1)


def _frequency_weights(n_fft: int, nfreq: int) -> np.ndarray:
    w = np.full(nfreq, 2.0)
    w[0] = 1.0
    if n_fft % 2 == 0:
        w[-1] = 1.0
    return w


def _kernels_for_pairs(
    greens: GreensSpectra, basis: np.ndarray, adj_spec: np.ndarray, pairs: np.ndarray
) -> np.ndarray:
    """Kernels of the given pairs, shape (npairs, nbasis, nfilters, ntraces)."""
    _, ntraces, nfreq = greens.spectra.shape
    nbasis, nfilters = basis.shape[0], adj_spec.shape[1]
    scale = _frequency_weights(greens.n_fft, nfreq) / (greens.dt * greens.n_fft)
    out = np.empty((len(pairs), nbasis, nfilters, ntraces))
    chunk = max(1, min(len(pairs), _CHUNK_ELEMENTS // (ntraces * nfreq)))
    buffer = np.empty((chunk, ntraces, nfreq), dtype=np.complex128)
    for start in range(0, len(pairs), chunk):
        n = min(chunk, len(pairs) - start)
        sl = slice(start, start + n)
        # conj(G_i) G_j over the whole grid into a reused buffer (no copies of G), then
        # Re(X Y) = Xr Yr - Xi Yi as one real matrix product over interleaved (re, im)
        product = buffer[:n]
        for c, (i, j) in enumerate(pairs[sl]):
            np.conjugate(greens.spectra[i], out=product[c])
            product[c] *= greens.spectra[j]
        right = (basis[None, :, None, :] * np.conj(adj_spec[sl])[:, None, :, :]) * scale
        right = right.reshape(n, nbasis * nfilters, nfreq).transpose(0, 2, 1)
        interleaved = np.empty((n, 2 * nfreq, nbasis * nfilters))
        interleaved[:, 0::2] = right.real
        interleaved[:, 1::2] = -right.imag
        kern = product.view(np.float64) @ interleaved
        out[sl] = kern.reshape(n, ntraces, nbasis, nfilters).transpose(0, 2, 3, 1)
    return out


def compute_kernels(
    greens: GreensSpectra,
    spectral_basis: np.ndarray,
    adjoint: np.ndarray,
    pairs: np.ndarray,
    comm: Any = None,
) -> np.ndarray | None:
    """Sensitivity kernels of all pairs, optionally split over MPI ranks.

    Parameters
    ----------
    greens : GreensSpectra
        Green's functions of the receivers.
    spectral_basis : np.ndarray
        Source spectral basis, shape (nbasis, nfreq).
    adjoint : np.ndarray
        Adjoint sources dJ/dc on the lags -L..L, shape (npairs, nfilters, 2 L + 1).
    pairs : np.ndarray
        Station index pairs, shape (npairs, 2).
    comm : mpi4py.MPI.Comm, optional
        With a communicator the pairs are split over its ranks and the kernels
        gathered on rank 0.

    Returns
    -------
    np.ndarray or None
        Kernels (densities, without cell areas), shape (npairs, nbasis, nfilters, ntraces),
        on rank 0 (or without a communicator); None on the other ranks.
    """
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    adjoint = np.asarray(adjoint, dtype=float)
    if adjoint.ndim != 3 or adjoint.shape[0] != len(pairs):
        raise ValueError(
            f"adjoint must have shape (npairs={len(pairs)}, nfilters, nlag), got {adjoint.shape}"
        )
    if spectral_basis.shape[1] != greens.frequencies_hz.size:
        raise ValueError(
            f"spectral basis has {spectral_basis.shape[1]} frequencies, the Green's functions "
            f"{greens.frequencies_hz.size}"
        )
    if (adjoint.shape[-1] - 1) // 2 > greens.max_lag_samples:
        raise ValueError("adjoint sources are longer than the Green's functions support")
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    mine = np.array_split(np.arange(len(pairs)), size)[rank]
    adj_spec = adjoint_spectra(adjoint[mine], greens.n_fft)
    local = _kernels_for_pairs(
        greens, np.asarray(spectral_basis, dtype=float), adj_spec, pairs[mine]
    )
    logger.info("rank %d of %d: kernels of %d pairs", rank, size, len(mine))
    if comm is None or size == 1:
        return local
    gathered = comm.gather((mine, local), root=0)
    if rank != 0:
        return None
    kernels = np.empty((len(pairs), *local.shape[1:]))
    for idx, block in gathered:
        kernels[idx] = block
    return kernels


def write_kernels(
    path: str | Path,
    kernels: np.ndarray,
    pair_ids: Sequence[tuple[str, str]],
    lon: np.ndarray,
    lat: np.ndarray,
    filters: Sequence[Band],
) -> None:
    """Write kernels (npairs x nbasis x nfilters x ntraces) to HDF5, atomically."""
    if kernels.ndim != 4 or kernels.shape[0] != len(pair_ids) or kernels.shape[3] != np.size(lon):
        raise ValueError(f"{path}: kernels shape {kernels.shape} does not match pairs and grid")
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("kernels", data=kernels)
        f.create_dataset("pair_ids", data=np.array([list(p) for p in pair_ids], dtype="S"))
        f.create_dataset("sourcegrid", data=np.vstack([lon, lat]))
        bands = np.array([b if b is not None else (np.nan, np.nan) for b in filters])
        f.create_dataset("filters", data=bands.reshape(-1, 2))
        f["kernels"].attrs["dimensions"] = "pair, basis, filter, grid point"


def read_kernels(path: str | Path) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Read kernels and pair ids written by :func:`write_kernels`."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [k for k in ("kernels", "pair_ids") if k not in f]
        if missing:
            raise ValueError(f"{path}: missing dataset(s) {', '.join(missing)}")
        kernels = f["kernels"][()]
        pair_ids = [(a.decode(), b.decode()) for a, b in f["pair_ids"][()]]
    return kernels, pair_ids
