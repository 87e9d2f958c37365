"""Results on disk: run directories, atomic writes, checksums, Parquet and checked readers.

A run is written into a hidden temporary directory next to its final place
and renamed into place only when everything is written, so a reader never
sees a half-written run. Layout of a finished run::

    results/<scenario>/<timestamp>/
        manifest.json      resolved scenario, seed, version, git revision, timings,
                           the SHA-256 of every other file
        scenario.yaml      the resolved scenario (re-runnable as is)
        metrics.parquet    tidy metrics (see simulator.metrics)
        firms.parquet      one row per firm and year (if output.firm_snapshots)
        figures/           made by simulator.plots from the files above

The package's modules:

* :mod:`~simulator.results.directory`: :class:`RunDirectory`,
  :func:`stamped_path`, :class:`DirectoryLock`, the manifest
  (:func:`manifest_for`, :func:`package_version`, :func:`git_revision`);
* :mod:`~simulator.results.atomic`: :func:`atomic_write`, :func:`write_json`,
  :func:`remove_temporaries`;
* :mod:`~simulator.results.integrity`: checksums (:func:`digests`,
  :func:`verify_file`, :func:`record_redrawn`), :func:`check_run_directory`,
  :func:`check_experiment_directory`, :func:`read_run`;
* :mod:`~simulator.results.parquet`: :func:`write_parquet` with page CRCs,
  :func:`read_parquet_file` verifying them, :func:`read_metrics_table`,
  :func:`numeric_columns`;
* :mod:`~simulator.results.readers`: the checked readers of single files
  (:func:`require_file`, :func:`read_text_file`, :func:`read_json_record`,
  :func:`parquet_columns`).
"""

from __future__ import annotations

from simulator.results.atomic import (
    TEMPORARY_GLOB,
    atomic_write,
    remove_temporaries,
    write_json,
)
from simulator.results.directory import (
    DirectoryLock,
    ExperimentFailedError,
    RunDirectory,
    git_revision,
    manifest_for,
    package_version,
    stamped_path,
)
from simulator.results.integrity import (
    check_experiment_directory,
    check_run_directory,
    digests,
    file_digest,
    read_run,
    record_redrawn,
    recorded_files,
    verify_file,
)
from simulator.results.parquet import (
    METRICS_COLUMNS,
    numeric_columns,
    read_metrics_table,
    read_parquet_file,
    write_parquet,
)
from simulator.results.readers import (
    parquet_columns,
    read_json_record,
    read_text_file,
    require_file,
)

__all__ = ["METRICS_COLUMNS", "TEMPORARY_GLOB", "DirectoryLock", "ExperimentFailedError",
           "RunDirectory", "atomic_write", "check_experiment_directory", "check_run_directory",
           "digests", "file_digest", "git_revision", "manifest_for", "numeric_columns",
           "package_version", "parquet_columns", "read_json_record", "read_metrics_table",
           "read_parquet_file", "read_run", "read_text_file", "record_redrawn",
           "recorded_files", "remove_temporaries", "require_file", "stamped_path",
           "verify_file", "write_json", "write_parquet"]
