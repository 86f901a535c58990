"""Parameters of the noise branch: correlation of one day and stacking of days.

Names follow NoisePy's ``ConfigParameters`` so a NoisePy configuration carries
over; ``inc_hours`` is not needed because seismake always correlates one UTC
day per job. Fields that NoisePy does not have are marked "seismake" below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

TIME_NORMS = ("no", "one_bit", "rma")
FREQ_NORMS = ("no", "rma", "phase_only")
CC_METHODS = ("xcorr", "deconv", "coherency")
RM_RESPS = ("no", "inv")
STACK_METHODS = ("linear", "pws", "robust", "nroot", "selective", "auto_covariance", "all")
ALL_METHODS = ("linear", "pws", "robust")


def _from_dict(cls: type, values: Mapping[str, Any]) -> Any:
    names = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"{cls.__name__}: unknown parameter(s) {', '.join(unknown)}; "
            f"known are {', '.join(sorted(names))}"
        )
    return cls(**dict(values))


def _check_choice(cls_name: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{cls_name}: {name}={value!r} is not one of {', '.join(choices)}")


@dataclass(frozen=True)
class CorrelationParams:
    """Parameters of the one-day cross-correlation (NoisePy ``ConfigParameters`` names).

    Attributes
    ----------
    sampling_rate : float
        Processing sampling rate in Hz.
    cc_len : float
        Correlation window length in s.
    step : float
        Window step in s (``cc_len - step`` is the overlap).
    freqmin, freqmax : float
        Pass band in Hz of the bandpass and of the spectral normalization.
    max_over_std : float
        Windows whose max ``|x|`` exceeds this many standard deviations of the
        channel's day are rejected.
    time_norm : str
        ``"no"``, ``"one_bit"`` or ``"rma"`` (running absolute mean over
        ``smooth_N`` samples).
    smooth_N : int
        Length in samples of the running mean of ``time_norm="rma"`` (NoisePy's).
    freq_norm : str
        ``"no"``, ``"rma"`` (running mean of ``|X|`` over ``smoothspect_N`` bins) or
        ``"phase_only"``.
    smoothspect_N : int
        Length in frequency bins of the spectral running means (``freq_norm="rma"``,
        ``cc_method="deconv"`` and ``"coherency"``; NoisePy's).
    cc_method : str
        ``"xcorr"``, ``"deconv"`` or ``"coherency"``.
    substack : bool
        Keep substacks of ``substack_windows`` windows instead of one stack per day.
    substack_windows : int
        Number of consecutive windows per substack.
    maxlag : float
        Largest lag kept, in s.
    ncomp : int
        1 (Z only) or 3 (Z, N, E; 9 component combinations).
    acorr_only, xcorr_only : bool
        Only auto-correlations (same station) or only cross-correlations
        (different stations); both False gives both.
    rm_resp : str
        ``"no"`` or ``"inv"`` (remove the response of the StationXML inventory,
        output velocity).
    max_gap_fraction : float
        seismake: channels missing more than this fraction of the day are dropped.
    max_window_gap_fraction : float
        seismake: windows missing more than this fraction of their samples are
        rejected for that channel.
    """

    sampling_rate: float = 20.0
    cc_len: float = 1800.0
    step: float = 450.0
    freqmin: float = 0.05
    freqmax: float = 2.0
    max_over_std: float = 10.0
    time_norm: str = "no"
    smooth_N: int = 10
    freq_norm: str = "rma"
    smoothspect_N: int = 10
    cc_method: str = "xcorr"
    substack: bool = False
    substack_windows: int = 1
    maxlag: float = 200.0
    ncomp: int = 3
    acorr_only: bool = False
    xcorr_only: bool = True
    rm_resp: str = "inv"
    max_gap_fraction: float = 0.3
    max_window_gap_fraction: float = 0.1

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check_choice(name, "time_norm", self.time_norm, TIME_NORMS)
        _check_choice(name, "freq_norm", self.freq_norm, FREQ_NORMS)
        _check_choice(name, "cc_method", self.cc_method, CC_METHODS)
        _check_choice(name, "rm_resp", self.rm_resp, RM_RESPS)
        if self.sampling_rate <= 0 or self.cc_len <= 0 or self.step <= 0:
            raise ValueError(f"{name}: sampling_rate, cc_len and step must be positive")
        if not 0 < self.freqmin < self.freqmax:
            raise ValueError(
                f"{name}: need 0 < freqmin < freqmax, got {self.freqmin}, {self.freqmax}"
            )
        if self.freqmin >= self.sampling_rate / 2:
            raise ValueError(
                f"{name}: freqmin={self.freqmin} Hz is not below the Nyquist frequency "
                f"of sampling_rate={self.sampling_rate} Hz"
            )
        if not 0 <= self.maxlag < self.cc_len:
            raise ValueError(f"{name}: need 0 <= maxlag < cc_len, got {self.maxlag}")
        if self.ncomp not in (1, 3):
            raise ValueError(f"{name}: ncomp must be 1 or 3, got {self.ncomp}")
        if self.acorr_only and self.xcorr_only:
            raise ValueError(f"{name}: acorr_only and xcorr_only cannot both be True")
        if self.smooth_N < 0 or self.smoothspect_N < 0:
            raise ValueError(f"{name}: smooth_N and smoothspect_N must be >= 0")
        if self.substack_windows < 1:
            raise ValueError(f"{name}: substack_windows must be >= 1")
        if self.max_over_std <= 0:
            raise ValueError(f"{name}: max_over_std must be positive")
        for field in ("max_gap_fraction", "max_window_gap_fraction"):
            if not 0 <= getattr(self, field) <= 1:
                raise ValueError(f"{name}: {field} must lie in [0, 1]")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping (e.g. a config section); unknown keys raise ValueError."""
        return _from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """All parameters as a plain dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StackParams:
    """Parameters of the stacking of daily correlations.

    Attributes
    ----------
    stack_method : str
        ``"linear"``, ``"pws"``, ``"robust"``, ``"nroot"``, ``"selective"``,
        ``"auto_covariance"`` or ``"all"`` (linear, pws and robust, as NoisePy).
    rotation : bool
        Also rotate the 9 ENZ combinations to ZR ZT ZZ RR RT RZ TR TT TZ.
    outlier_factor : float
        Rows whose max ``|x|`` exceeds this many times the median row max are dropped.
    pws_power : float
        Exponent of the phase-stack weight.
    nroot_power : float
        N of the N-th root stack.
    robust_epsilon : float
        Convergence threshold of the robust stack (relative L2 change).
    robust_maxiter : int
        Most iterations of the robust and selective stacks.
    selective_threshold : float
        Rows whose correlation coefficient with the stack is below this are dropped.
    auto_covariance_power : float
        Exponent g of the adaptive covariance filter (Nakata et al. 2015).
    """

    stack_method: str = "linear"
    rotation: bool = False
    outlier_factor: float = 20.0
    pws_power: float = 2.0
    nroot_power: float = 2.0
    robust_epsilon: float = 1e-3
    robust_maxiter: int = 10
    selective_threshold: float = 0.0
    auto_covariance_power: float = 1.0

    def __post_init__(self) -> None:
        name = type(self).__name__
        _check_choice(name, "stack_method", self.stack_method, STACK_METHODS)
        if self.outlier_factor <= 0 or self.nroot_power <= 0 or self.robust_epsilon <= 0:
            raise ValueError(
                f"{name}: outlier_factor, nroot_power and robust_epsilon must be positive"
            )
        if self.robust_maxiter < 1:
            raise ValueError(f"{name}: robust_maxiter must be >= 1")

    @property
    def methods(self) -> tuple[str, ...]:
        """The stack methods computed (``"all"`` expanded)."""
        return ALL_METHODS if self.stack_method == "all" else (self.stack_method,)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping (e.g. a config section); unknown keys raise ValueError."""
        return _from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """All parameters as a plain dict."""
        return dataclasses.asdict(self)
