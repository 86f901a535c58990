"""Logging set-up for the scripts that rules run: everything into the rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def log_to_file(path: str | Path, level: int = logging.INFO) -> None:
    """Send ``logging`` records, warnings and uncaught exceptions to ``path`` and stderr.

    The uncaught exception's message is what Snakemake shows when a job fails, so it
    also goes to stderr; the log file keeps the full traceback.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    to_file = logging.FileHandler(path, mode="w")
    to_file.setFormatter(fmt)
    to_err = logging.StreamHandler(sys.stderr)
    to_err.setFormatter(fmt)
    to_err.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [to_file, to_err]
    root.setLevel(level)
    logging.captureWarnings(True)

    def excepthook(exc_type, exc, tb):
        logging.getLogger("seismake").critical(
            "%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb)
        )

    sys.excepthook = excepthook
