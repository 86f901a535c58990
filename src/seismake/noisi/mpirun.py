"""Sensitivity kernels from files, serially or under MPI.

Run as ``mpiexec -n N python -m seismake.noisi.mpirun --greens A.h5 B.h5 ...
--model model.h5 --measurement measurement.h5 --output kernels.h5``: every
rank reads the inputs, computes the kernels of its block of pairs, and rank 0
gathers them and writes the output (pairs x basis x filters x grid).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seismake.noisi.forward import check_compatible, pair_indices, stack_greens
from seismake.noisi.greens import read_wavefield
from seismake.noisi.kernels import compute_kernels, write_kernels
from seismake.noisi.measure import read_measurement
from seismake.noisi.sources import read_source_model

logger = logging.getLogger(__name__)


def kernels_from_files(
    greens_paths: Sequence[str | Path],
    model_path: str | Path,
    measurement_path: str | Path,
    output_path: str | Path,
    comm: Any = None,
) -> None:
    """Compute and write the kernels of all measured pairs.

    Parameters
    ----------
    greens_paths : sequence of path
        Appendix C wavefield files of all receivers in the measurement.
    model_path : path
        Appendix D source model (its spectral basis and grid are used).
    measurement_path : path
        Adjoint sources from :func:`seismake.noisi.measure.write_measurement`.
    output_path : path
        Kernel file (:func:`seismake.noisi.kernels.write_kernels`), written by rank 0.
    comm : mpi4py.MPI.Comm, optional
        Communicator to split the pairs over.
    """
    greens = stack_greens([read_wavefield(p) for p in greens_paths])
    model = read_source_model(model_path)
    check_compatible(greens, model)
    measurement = read_measurement(measurement_path)
    pairs = pair_indices(greens.station_ids, measurement.pair_ids)
    kernels = compute_kernels(greens, model.spectral_basis, measurement.adjoint, pairs, comm=comm)
    if kernels is not None:
        write_kernels(
            output_path, kernels, measurement.pair_ids, greens.lon, greens.lat, measurement.filters
        )
        logger.info("wrote kernels of %d pairs to %s", len(pairs), output_path)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m seismake.noisi.mpirun", description=__doc__)
    parser.add_argument("--greens", nargs="+", required=True, help="wavefield HDF5 files")
    parser.add_argument("--model", required=True, help="source model HDF5 file")
    parser.add_argument(
        "--measurement", required=True, help="measurement HDF5 with adjoint sources"
    )
    parser.add_argument("--output", required=True, help="kernel HDF5 file to write")
    parser.add_argument("--serial", action="store_true", help="do not initialise MPI")
    args = parser.parse_args(argv)
    comm = None
    if not args.serial:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
    rank = 0 if comm is None else comm.Get_rank()
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s rank {rank} %(name)s %(levelname)s %(message)s"
    )
    kernels_from_files(args.greens, args.model, args.measurement, args.output, comm=comm)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
