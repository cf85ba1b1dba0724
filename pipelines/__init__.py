"""Ingestion pipelines: native corpora in, versioned Parquet (see `schemas`) out.

`pipelines.core` is the build core every data set shares (planning, sharded Beam execution,
dead letters, atomic Parquet writes, manifest); `pipelines.<dataset>` holds one data set each.
"""

__version__ = "0.1.0"
