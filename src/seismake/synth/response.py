"""Instrument response and StationXML of the demo.

Every channel has the same two-stage response: a 120 s broadband velocity sensor (the
poles and zeros of an STS-2, M/S -> V, gain ``sensor_gain_v_per_m_s`` at 1 Hz) and a
digitizer (V -> COUNTS, a pure gain ``digitizer_gain_counts_per_v``). The overall
sensitivity at 1 Hz is the product of the two gains; the sensor stage is normalized to
unit modulus at 1 Hz, so ObsPy's ``recalculate_overall_sensitivity`` gives the same value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from obspy import UTCDateTime
from obspy.core.inventory import (
    Channel,
    CoefficientsTypeResponseStage,
    Equipment,
    InstrumentSensitivity,
    Inventory,
    Network,
    PolesZerosResponseStage,
    Response,
    Station,
)
from obspy.core.inventory import (
    Site as XmlSite,
)

from .layout import Site
from .spec import DemoSpec

SENSOR_ZEROS = (0j, 0j)
SENSOR_POLES = (
    -0.037004 + 0.037016j,
    -0.037004 - 0.037016j,
    -251.33 + 0j,
    -131.04 + 467.29j,
    -131.04 - 467.29j,
)
NORMALIZATION_FREQUENCY_HZ = 1.0
_MODULE = "seismake.synth"
_LAPLACE = "LAPLACE (RADIANS/SECOND)"


def _paz(f_hz: np.ndarray, zeros: Sequence[complex], poles: Sequence[complex]) -> np.ndarray:
    s = 2j * np.pi * np.asarray(f_hz, dtype=float)
    out = np.ones(s.shape, dtype=complex)
    for z in zeros:
        out *= s - z
    for p in poles:
        out /= s - p
    return out


def sensor_normalization_factor() -> float:
    """A0 of the sensor stage: ``1 / |H(2 pi i f_n)|`` at ``f_n`` = 1 Hz."""
    return float(1.0 / abs(_paz(np.array([NORMALIZATION_FREQUENCY_HZ]), SENSOR_ZEROS,
                                SENSOR_POLES)[0]))


def channel_response(spec: DemoSpec, sampling_rate_hz: float) -> Response:
    """The two-stage response of a demo channel.

    Parameters
    ----------
    spec
        Demo parameters (stage gains).
    sampling_rate_hz
        Sampling rate of the channel (the digitizer stage's decimation input rate).

    Returns
    -------
    obspy.core.inventory.Response
        Input M/S, output COUNTS.
    """
    sensor = PolesZerosResponseStage(
        1, spec.sensor_gain_v_per_m_s, NORMALIZATION_FREQUENCY_HZ, "M/S", "V", _LAPLACE,
        NORMALIZATION_FREQUENCY_HZ, list(SENSOR_ZEROS), list(SENSOR_POLES),
        normalization_factor=sensor_normalization_factor(),
        name="STS-2-like 120 s broadband sensor",
    )
    digitizer = CoefficientsTypeResponseStage(
        2, spec.digitizer_gain_counts_per_v, NORMALIZATION_FREQUENCY_HZ, "V", "COUNTS",
        "DIGITAL", numerator=[1.0], denominator=[], name="digitizer gain",
        decimation_input_sample_rate=sampling_rate_hz, decimation_factor=1,
        decimation_offset=0, decimation_delay=0.0, decimation_correction=0.0,
    )
    sensitivity = InstrumentSensitivity(
        spec.sensor_gain_v_per_m_s * spec.digitizer_gain_counts_per_v,
        NORMALIZATION_FREQUENCY_HZ, "M/S", "COUNTS",
    )
    return Response(instrument_sensitivity=sensitivity, response_stages=[sensor, digitizer])


def response_values(response: Response, f_hz: np.ndarray) -> np.ndarray:
    """Complex velocity response (counts per m/s) at the given frequencies.

    Evaluates the Laplace poles-and-zeros and pure-gain stages directly, in NumPy's Fourier
    convention (the one ObsPy's evalresp wrapper returns and ``remove_response`` divides
    by), which is much faster than evalresp for the millions of bins of a day.

    Parameters
    ----------
    response
        A response whose stages are Laplace (rad/s) poles-and-zeros stages or digital
        coefficient stages with the single numerator 1 and no denominator, input M/S.
    f_hz
        Frequencies, Hz, shape (F,).

    Returns
    -------
    numpy.ndarray
        Complex response, shape (F,).

    Raises
    ------
    ValueError
        If a stage is of another kind.
    """
    out = np.ones(np.shape(f_hz), dtype=complex)
    for stage in response.response_stages:
        if isinstance(stage, PolesZerosResponseStage):
            if stage.pz_transfer_function_type != _LAPLACE:
                raise ValueError(f"stage {stage.stage_sequence_number}: only {_LAPLACE} supported")
            out *= stage.normalization_factor * _paz(f_hz, stage.zeros, stage.poles)
        elif isinstance(stage, CoefficientsTypeResponseStage):
            if [float(c) for c in stage.numerator] != [1.0] or stage.denominator:
                raise ValueError(
                    f"stage {stage.stage_sequence_number}: only pure-gain coefficient stages"
                )
        else:
            raise ValueError(
                f"stage {stage.stage_sequence_number}: unsupported type {type(stage).__name__}"
            )
        out *= stage.stage_gain
    return out


def demo_inventory(spec: DemoSpec, sites: Sequence[Site]) -> Inventory:
    """StationXML inventory of the demo sites (one network).

    Parameters
    ----------
    spec
        Demo parameters; ``spec.start`` gives every start and creation date.
    sites
        The stations and array elements.

    Returns
    -------
    obspy.Inventory
        No wall-clock time inside: ``created`` is ``spec.start``.
    """
    t0 = UTCDateTime(spec.start)
    stations = []
    for site in sites:
        channels = []
        for cha in site.channels:
            azimuth, dip = {"Z": (0.0, -90.0), "N": (0.0, 0.0), "E": (90.0, 0.0)}[cha[-1]]
            channels.append(Channel(
                cha, site.location, site.latitude, site.longitude, site.elevation_m, 0.0,
                azimuth=azimuth, dip=dip, sample_rate=site.sampling_rate_hz, start_date=t0,
                types=["CONTINUOUS", "GEOPHYSICAL"],
                sensor=Equipment(type="broadband seismometer",
                                 description="STS-2-like 120 s velocity sensor"),
                response=channel_response(spec, site.sampling_rate_hz),
            ))
        stations.append(Station(
            site.station, site.latitude, site.longitude, site.elevation_m, channels=channels,
            site=XmlSite(name=f"seismake demo {site.role} station {site.station}"),
            start_date=t0, creation_date=t0,
        ))
    network = Network(spec.network, stations=stations, start_date=t0,
                      description="seismake synthetic demo network")
    return Inventory(networks=[network], source=_MODULE, sender=_MODULE, created=t0,
                     module=_MODULE, module_uri=None)
