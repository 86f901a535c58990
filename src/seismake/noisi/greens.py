"""Green's-function databases in the noisi wavefield format (paper Appendix C).

One HDF5 file per receiver channel, named ``NET.STA..CHA.h5``, holds

- ``data``: Green's functions from every source location to the receiver,
  shape (ntraces, nt); real samples at t = n / Fs (``fdomain`` 0) or the
  complex non-negative-frequency half of the real FFT of the zero-padded
  trace (``fdomain`` 1, ``nt`` frequencies, FFT length 2 (nt - 1));
- ``sourcegrid``: longitude and latitude of the source locations, shape (2, ntraces);
- ``stats``: a dataset whose attributes are ``Fs`` (Hz), ``data_quantity``
  (``DIS``, ``VEL`` or ``ACC``), ``fdomain`` (0 or 1), ``nt``, ``ntraces`` and
  ``reference_station`` (SEED identifier of the receiver).

The time-domain traces are zero padded to the next power of two of
2 nt - 1 before the FFT, so correlations of two traces do not wrap around.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

from seismake.fileio import atomic_output
from seismake.geodesy import geodesic_inverse
from seismake.noisi.grid import SourceGrid

logger = logging.getLogger(__name__)

STATS_ATTRIBUTES = ("Fs", "data_quantity", "fdomain", "nt", "ntraces", "reference_station")
DATA_QUANTITIES = ("DIS", "VEL", "ACC")


class WavefieldFileError(ValueError):
    """A wavefield file does not follow the noisi format (Appendix C)."""


def next_power_of_two(n: int) -> int:
    """Smallest power of two that is >= ``n``."""
    return 1 << max(0, int(n) - 1).bit_length()


def fft_length(nt: int) -> int:
    """FFT length for time-domain traces of ``nt`` samples: next power of two of 2 nt - 1."""
    return next_power_of_two(2 * int(nt) - 1)


def frequency_axis(nt: int, fs_hz: float) -> np.ndarray:
    """Frequencies in Hz of the spectra of time-domain traces with ``nt`` samples,
    shape (fft_length(nt) // 2 + 1,); the axis a source model must share."""
    return np.fft.rfftfreq(fft_length(nt), d=1.0 / fs_hz)


@dataclass
class Wavefield:
    """Green's functions from all source locations to one receiver channel.

    Attributes
    ----------
    data : np.ndarray
        Shape (ntraces, nt): real time samples (``fdomain`` False) or the
        complex rFFT of the zero-padded samples (``fdomain`` True).
    sourcegrid : np.ndarray
        Longitude and latitude in degrees, shape (2, ntraces).
    fs_hz : float
        Sampling rate in Hz.
    data_quantity : str
        ``DIS``, ``VEL`` or ``ACC``.
    fdomain : bool
        Storage domain of ``data``.
    reference_station : str
        SEED identifier ``NET.STA.LOC.CHA`` of the receiver.
    """

    data: np.ndarray
    sourcegrid: np.ndarray
    fs_hz: float
    data_quantity: str
    fdomain: bool
    reference_station: str

    @property
    def nt(self) -> int:
        """Samples per trace as stored (time samples or frequencies)."""
        return int(self.data.shape[1])

    @property
    def ntraces(self) -> int:
        """Number of source locations."""
        return int(self.data.shape[0])

    @property
    def n_fft(self) -> int:
        """Length of the real FFT behind the frequency axis."""
        return 2 * (self.nt - 1) if self.fdomain else fft_length(self.nt)

    @property
    def n_time(self) -> int:
        """Number of usable time samples (bounds the correlation lag)."""
        return self.nt if not self.fdomain else self.n_fft // 2

    @property
    def frequencies_hz(self) -> np.ndarray:
        """Frequency axis of the spectra in Hz, shape (n_fft // 2 + 1,)."""
        return np.fft.rfftfreq(self.n_fft, d=1.0 / self.fs_hz)

    def spectra(self, out: np.ndarray | None = None) -> np.ndarray:
        """Continuous-Fourier-transform approximation of the traces.

        Parameters
        ----------
        out : np.ndarray, optional
            Complex128 array of shape (ntraces, n_fft // 2 + 1) to fill.

        Returns
        -------
        np.ndarray
            ``dt * rfft(data, n_fft)``, complex, shape (ntraces, n_fft // 2 + 1),
            in the units of the data times seconds.
        """
        if out is None:
            out = np.empty((self.ntraces, self.n_fft // 2 + 1), dtype=np.complex128)
        if self.fdomain:
            out[...] = self.data
        else:
            np.fft.rfft(np.asarray(self.data, dtype=np.float64), n=self.n_fft, axis=1, out=out)
        out *= 1.0 / self.fs_hz
        return out


def greens_filename(network: str, station: str, channel: str, location: str = "") -> str:
    """File name of one receiver channel's wavefield: ``NET.STA.LOC.CHA.h5``."""
    return f"{network}.{station}.{location}.{channel}.h5"


def validate_wavefield(wavefield: Wavefield, name: str = "wavefield") -> None:
    """Check shapes and metadata; raise :class:`WavefieldFileError` naming ``name``."""
    data, grid = wavefield.data, wavefield.sourcegrid
    if data.ndim != 2:
        raise WavefieldFileError(f"{name}: data must be 2-D (ntraces, nt), got shape {data.shape}")
    if grid.ndim != 2 or grid.shape != (2, data.shape[0]):
        raise WavefieldFileError(
            f"{name}: sourcegrid has shape {grid.shape}, "
            f"expected (2, ntraces) = (2, {data.shape[0]})"
        )
    if wavefield.data_quantity not in DATA_QUANTITIES:
        raise WavefieldFileError(
            f"{name}: data_quantity {wavefield.data_quantity!r} is not one of {DATA_QUANTITIES}"
        )
    if not np.isfinite(wavefield.fs_hz) or wavefield.fs_hz <= 0:
        raise WavefieldFileError(
            f"{name}: sampling rate Fs must be positive, got {wavefield.fs_hz}"
        )
    if wavefield.fdomain and not np.iscomplexobj(data):
        raise WavefieldFileError(
            f"{name}: fdomain is 1 but data are real, expected complex spectra"
        )
    if not wavefield.fdomain and np.iscomplexobj(data):
        raise WavefieldFileError(f"{name}: fdomain is 0 but data are complex")
    if data.shape[1] < 2:
        raise WavefieldFileError(f"{name}: need at least 2 samples per trace, got {data.shape[1]}")


def write_wavefield(path: str | Path, wavefield: Wavefield, dtype: str = "float32") -> None:
    """Write a wavefield as an Appendix C HDF5 file, atomically.

    Parameters
    ----------
    path : str or Path
        Output file, conventionally :func:`greens_filename`.
    wavefield : Wavefield
        Validated before writing.
    dtype : str
        ``float32`` (the noisi default) or ``float64``; complex data are stored
        with the matching complex precision.
    """
    validate_wavefield(wavefield, str(path))
    real = np.dtype(dtype)
    if real not in (np.float32, np.float64):
        raise ValueError(f"{path}: dtype must be float32 or float64, got {dtype}")
    data_dtype = np.result_type(real, np.complex64) if wavefield.fdomain else real
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("data", data=np.asarray(wavefield.data, dtype=data_dtype))
        f.create_dataset("sourcegrid", data=np.asarray(wavefield.sourcegrid, dtype=real))
        stats = f.create_dataset("stats", data=(0,))
        stats.attrs["Fs"] = float(wavefield.fs_hz)
        stats.attrs["data_quantity"] = wavefield.data_quantity
        stats.attrs["fdomain"] = int(wavefield.fdomain)
        stats.attrs["nt"] = int(wavefield.nt)
        stats.attrs["ntraces"] = int(wavefield.ntraces)
        stats.attrs["reference_station"] = wavefield.reference_station
    logger.info("wrote %s (%d traces x %d samples)", path, wavefield.ntraces, wavefield.nt)


def read_wavefield(path: str | Path) -> Wavefield:
    """Read and validate an Appendix C wavefield file.

    Raises
    ------
    WavefieldFileError
        Naming the file and the problem: a missing dataset or ``stats``
        attribute, ``data`` whose shape disagrees with ``ntraces`` x ``nt``, a
        ``sourcegrid`` that is not 2 x ntraces, or invalid metadata.
    """
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise WavefieldFileError(f"{path}: cannot open as HDF5 ({exc})") from exc
    with f:
        missing = [k for k in ("data", "sourcegrid", "stats") if k not in f]
        if missing:
            raise WavefieldFileError(f"{path}: missing dataset(s) {', '.join(missing)}")
        attrs = dict(f["stats"].attrs)
        missing = [k for k in STATS_ATTRIBUTES if k not in attrs]
        if missing:
            raise WavefieldFileError(f"{path}: stats is missing attribute(s) {', '.join(missing)}")
        nt, ntraces = int(attrs["nt"]), int(attrs["ntraces"])
        shape = f["data"].shape
        if shape != (ntraces, nt):
            raise WavefieldFileError(
                f"{path}: data has shape {shape}, expected (ntraces, nt) = ({ntraces}, {nt})"
            )
        if f["sourcegrid"].shape != (2, ntraces):
            raise WavefieldFileError(
                f"{path}: sourcegrid has shape {f['sourcegrid'].shape}, "
                f"expected (2, ntraces) = (2, {ntraces})"
            )
        fdomain = int(attrs["fdomain"])
        if fdomain not in (0, 1):
            raise WavefieldFileError(f"{path}: fdomain must be 0 or 1, got {fdomain}")
        wavefield = Wavefield(
            data=f["data"][()],
            sourcegrid=f["sourcegrid"][()].astype(np.float64),
            fs_hz=float(attrs["Fs"]),
            data_quantity=_as_str(attrs["data_quantity"]),
            fdomain=bool(fdomain),
            reference_station=_as_str(attrs["reference_station"]),
        )
    validate_wavefield(wavefield, str(path))
    return wavefield


def _as_str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def analytic_surface_wave_spectrum(
    freqs_hz: np.ndarray,
    dist_m: np.ndarray,
    velocity_mps: float,
    q: float,
    density_kgm3: float,
    data_quantity: str = "DIS",
    force_n: float = 1.0,
) -> np.ndarray:
    """Far-field surface-wave Green's function of a homogeneous 2-D medium.

    G(w, r) = F fac sqrt(2 v / (pi w r)) exp(-i w r / v + i pi / 4) exp(-w r / (2 v Q)),
    with fac = -i / (4 rho v^2) for displacement and w / (4 rho v^2) for
    velocity (i w times displacement; acceleration is -w^2 times displacement),
    and G(0) = 0. The sign convention is that of ``numpy.fft`` (a delay t0
    multiplies the spectrum by exp(-i w t0)).

    Parameters
    ----------
    freqs_hz : np.ndarray
        Frequencies in Hz, shape (nfreq,).
    dist_m : np.ndarray
        Source-receiver distances in metres, shape (ntraces,).
    velocity_mps, q, density_kgm3 : float
        Phase (= group) velocity in m/s, quality factor, density in kg/m^3.
    data_quantity : str
        ``DIS``, ``VEL`` or ``ACC``.
    force_n : float
        Point-force amplitude F in N.

    Returns
    -------
    np.ndarray
        Complex spectra in units of the quantity times seconds, shape (ntraces, nfreq).
    """
    if data_quantity not in DATA_QUANTITIES:
        raise ValueError(f"data_quantity must be one of {DATA_QUANTITIES}, got {data_quantity!r}")
    w = 2.0 * np.pi * np.asarray(freqs_hz, dtype=float)[None, :]
    r = np.maximum(np.asarray(dist_m, dtype=float)[:, None], 1e-3)
    v = float(velocity_mps)
    safe_w = np.where(w > 0, w, 1.0)
    amp = force_n / (4.0 * density_kgm3 * v**2) * np.sqrt(2.0 * v / (np.pi * safe_w * r))
    g = (
        -1j
        * amp
        * np.exp(-1j * safe_w * r / v + 1j * np.pi / 4.0)
        * np.exp(-safe_w * r / (2 * v * q))
    )
    if data_quantity == "VEL":
        g = g * (1j * safe_w)
    elif data_quantity == "ACC":
        g = g * (-(safe_w**2))
    return np.where(w > 0, g, 0.0)


def analytic_wavefield(
    grid: SourceGrid,
    receiver_lat: float,
    receiver_lon: float,
    reference_station: str,
    fs_hz: float,
    nt: int,
    velocity_mps: float,
    q: float,
    density_kgm3: float,
    data_quantity: str = "DIS",
    fdomain: bool = False,
    band_hz: tuple[float, float] | None = None,
    min_distance_m: float | None = None,
) -> Wavefield:
    """Analytic Green's functions from every grid point to one receiver.

    Parameters
    ----------
    grid : SourceGrid
        Source locations.
    receiver_lat, receiver_lon : float
        Receiver coordinates in degrees.
    reference_station : str
        SEED identifier of the receiver channel.
    fs_hz : float
        Sampling rate in Hz.
    nt : int
        Time samples per trace (lags up to (nt - 1) / fs_hz can be modelled).
    velocity_mps, q, density_kgm3 : float
        Homogeneous medium.
    data_quantity : str
        ``DIS``, ``VEL`` or ``ACC``.
    fdomain : bool
        Store spectra (exact at the model frequencies) instead of time samples.
    band_hz : (float, float), optional
        Cosine taper of the spectrum outside [fmin, fmax]: it reaches zero at
        fmin / 2 and at min(2 fmax, Nyquist), keeping the time-domain traces
        compact; None keeps the full band.
    min_distance_m : float, optional
        Distances below this are raised to it, which keeps the far-field
        expression (singular at r = 0) finite for sources at the receiver;
        half the grid step by default.

    Returns
    -------
    Wavefield
        Time-domain traces g[n] at t = n / fs_hz (``fdomain`` False) or
        ``rfft`` of those samples on the FFT length :func:`fft_length` (``fdomain`` True).
    """
    dist, _, _ = geodesic_inverse(receiver_lat, receiver_lon, grid.lat, grid.lon)
    if min_distance_m is None:
        min_distance_m = 0.5 * grid.step_m if np.isfinite(grid.step_m) else 0.0
    dist = np.maximum(dist, min_distance_m)
    n_fft = fft_length(nt)
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / fs_hz)
    spec = analytic_surface_wave_spectrum(
        freqs, dist, velocity_mps, q, density_kgm3, data_quantity=data_quantity
    )
    if band_hz is not None:
        spec = spec * band_taper(freqs, band_hz[0], band_hz[1], fs_hz / 2.0)[None, :]
    dt = 1.0 / fs_hz
    if fdomain:
        data = spec / dt
    else:
        data = np.fft.irfft(spec / dt, n=n_fft, axis=1)[:, :nt]
    return Wavefield(
        data=data,
        sourcegrid=grid.coordinates,
        fs_hz=float(fs_hz),
        data_quantity=data_quantity,
        fdomain=fdomain,
        reference_station=reference_station,
    )


def band_taper(freqs_hz: np.ndarray, fmin: float, fmax: float, nyquist: float) -> np.ndarray:
    """Real taper: 1 in [fmin, fmax], cosine to 0 at fmin / 2 and at min(2 fmax, nyquist)."""
    f = np.asarray(freqs_hz, dtype=float)
    if not 0 < fmin < fmax:
        raise ValueError(f"band must satisfy 0 < fmin < fmax, got ({fmin}, {fmax})")
    taper = np.ones_like(f)
    lo0, hi0 = 0.5 * fmin, min(2.0 * fmax, nyquist)
    low = f < fmin
    taper[low] = np.sin(0.5 * np.pi * np.clip((f[low] - lo0) / (fmin - lo0), 0.0, 1.0)) ** 2
    high = f > fmax
    if hi0 > fmax:
        taper[high] = np.cos(0.5 * np.pi * np.clip((f[high] - fmax) / (hi0 - fmax), 0.0, 1.0)) ** 2
    else:
        taper[high] = 0.0
    return taper


def import_wavefield(
    data: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    grid: SourceGrid,
    fs_hz: float,
    data_quantity: str,
    reference_station: str,
    fdomain: bool = False,
    method: str = "linear",
) -> Wavefield:
    """Bring a wavefield from any solver onto the source grid.

    Parameters
    ----------
    data : np.ndarray
        Solver output at its own surface points, shape (npoints, nt): real
        time samples, or complex rFFT spectra when ``fdomain`` is True.
    lon, lat : np.ndarray
        Coordinates of the solver points in degrees, shape (npoints,).
    grid : SourceGrid
        Target source grid.
    fs_hz : float
        Sampling rate of the solver output in Hz.
    data_quantity : str
        ``DIS``, ``VEL`` or ``ACC``.
    reference_station : str
        SEED identifier of the receiver (the reciprocal source location).
    fdomain : bool
        Whether ``data`` holds spectra.
    method : str
        ``linear`` (barycentric in longitude/latitude; grid points outside the
        solver points' hull are an error) or ``nearest``. When the solver
        points coincide with the grid, the data are taken as they are.

    Returns
    -------
    Wavefield
        Validated, ready for :func:`write_wavefield`.
    """
    data = np.asarray(data)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    name = f"wavefield of {reference_station}"
    if data.ndim != 2 or data.shape[0] != lon.size or lat.shape != lon.shape:
        raise WavefieldFileError(
            f"{name}: data shape {data.shape} does not match {lon.size} solver points"
        )
    if lon.size == grid.size and np.allclose(lon, grid.lon) and np.allclose(lat, grid.lat):
        on_grid = data
    else:
        points = np.column_stack([lon, lat])
        targets = np.column_stack([grid.lon, grid.lat])
        if method == "linear":
            on_grid = LinearNDInterpolator(points, data, fill_value=np.nan)(targets)
            outside = np.isnan(on_grid).any(axis=1)
            if outside.any():
                raise WavefieldFileError(
                    f"{name}: {int(outside.sum())} grid points lie outside the solver points"
                )
        elif method == "nearest":
            on_grid = NearestNDInterpolator(points, data)(targets)
        else:
            raise ValueError(f"interpolation method must be 'linear' or 'nearest', got {method!r}")
    wavefield = Wavefield(
        data=np.asarray(on_grid),
        sourcegrid=grid.coordinates,
        fs_hz=float(fs_hz),
        data_quantity=data_quantity,
        fdomain=fdomain,
        reference_station=reference_station,
    )
    validate_wavefield(wavefield, name)
    return wavefield
