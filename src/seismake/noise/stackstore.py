"""One HDF5 file per chunk of station pairs holding the stacks of every method.

Layout::

    /                     attrs: format, version, components, methods, days, n_pair, units
    /stack_params         attrs: every StackParams field
    /correlation_params   attrs: every CorrelationParams field of the day files
    /lags_s               (n_lag,) float64, units s
    /pairs/station1, station2, channel1, channel2, coords1, coords2,
           distance_km, azimuth_deg, backazimuth_deg     as in the day files
    /pairs/nrows          (n_pair, n_comp) int32 rows stacked
    /pairs/ndays          (n_pair,) int32 days with data
    /stacks/{method}/{component}   (n_pair, n_lag) float32, ENZ combinations
    /rtz/{method}/{component}      (n_pair, n_lag) float32, with rotation only
"""

from __future__ import annotations

import os

import h5py
import numpy as np

from seismake.noise.ccfstore import (
    data_units,
    open_checked,
    read_params,
    read_str_dataset,
    write_atomic_h5,
    write_str_dataset,
)
from seismake.noise.params import CorrelationParams, StackParams
from seismake.noise.stack import RTZ_COMPONENTS, PairStacks

FORMAT = "seismake.noise.stack"
VERSION = 1
STRING_FIELDS = ("station1", "station2", "channel1", "channel2")
FLOAT_FIELDS = {
    "coords1": "deg, deg, m",
    "coords2": "deg, deg, m",
    "distance_km": "km",
    "azimuth_deg": "deg",
    "backazimuth_deg": "deg",
}


def write_stacks(path: str | os.PathLike, stacks: PairStacks) -> None:
    """Write the stacks of a chunk of pairs to one HDF5 file, atomically.

    Parameters
    ----------
    path : str or path-like
        Output file.
    stacks : PairStacks
        Output of :func:`seismake.noise.stack.stack_day_files`.
    """
    units = data_units(stacks.correlation_params) if stacks.correlation_params else "unknown"

    def write(h5: h5py.File) -> None:
        h5.attrs["format"] = FORMAT
        h5.attrs["version"] = VERSION
        h5.attrs["components"] = list(stacks.components)
        h5.attrs["methods"] = list(stacks.stacks)
        h5.attrs["days"] = list(stacks.days)
        h5.attrs["n_pair"] = stacks.n_pair
        h5.attrs["units"] = units
        group = h5.create_group("stack_params")
        for key, value in stacks.params.to_dict().items():
            group.attrs[key] = value
        group = h5.create_group("correlation_params")
        if stacks.correlation_params is not None:
            for key, value in stacks.correlation_params.to_dict().items():
                group.attrs[key] = value
        h5.create_dataset("lags_s", data=stacks.lags_s).attrs["units"] = "s"
        pairs = h5.create_group("pairs")
        for name in STRING_FIELDS:
            write_str_dataset(pairs, name, getattr(stacks, name))
        for name, unit in FLOAT_FIELDS.items():
            pairs.create_dataset(name, data=getattr(stacks, name)).attrs["units"] = unit
        pairs.create_dataset("nrows", data=stacks.nrows)
        pairs.create_dataset("ndays", data=stacks.ndays)
        for top, values, comps in (
            ("stacks", stacks.stacks, stacks.components),
            ("rtz", stacks.rtz, RTZ_COMPONENTS),
        ):
            for method, data in values.items():
                group = h5.create_group(f"{top}/{method}")
                for c, comp in enumerate(comps):
                    dset = group.create_dataset(comp, data=data[:, c])
                    dset.attrs["units"] = units

    write_atomic_h5(path, write)


def read_stacks(path: str | os.PathLike) -> PairStacks:
    """Read a stack file written by :func:`write_stacks`."""
    with open_checked(path, FORMAT) as h5:
        comps = tuple(str(c) for c in h5.attrs["components"])
        pairs = h5["pairs"]
        fields = {name: read_str_dataset(pairs[name]) for name in STRING_FIELDS}
        fields.update({name: pairs[name][()] for name in FLOAT_FIELDS})

        def load(top: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
            if top not in h5:
                return {}
            return {
                method: np.stack([group[c][()] for c in names], axis=1)
                for method, group in h5[top].items()
            }

        corr = h5["correlation_params"].attrs
        return PairStacks(
            **fields,
            components=comps,
            lags_s=h5["lags_s"][()],
            stacks=load("stacks", comps),
            rtz=load("rtz", RTZ_COMPONENTS),
            nrows=pairs["nrows"][()],
            ndays=pairs["ndays"][()],
            days=[str(d) for d in h5.attrs["days"]],
            params=read_params(StackParams, h5["stack_params"].attrs),
            correlation_params=read_params(CorrelationParams, corr) if len(corr) else None,
        )
