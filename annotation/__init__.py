"""Crowd annotation of mmdial's Parquet with a real Label Studio server.

- `server`: start/stop/status of a local Label Studio (its own virtualenv), admin and token without prompts;
- `credentials`: where API tokens come from (environment or a 0600 file; never argv, never logs);
- `client`: the thin adapter over label-studio-sdk 2.x (the only module that imports the SDK), with retries;
- `flows`: the five annotation flows (labeling config, task builder from Parquet, exporter);
- `sync`: push and pull with content-hash task identity, history and resume;
- `qc`: the JDDC 2.1 group acceptance check (10% of each group of 100, 90% to pass);
- `cli`: the `mmdial annotate` command group.
"""
