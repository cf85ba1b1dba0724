"""Crowd annotation of mmdial's Parquet with a real Label Studio server.

Modules, each importing only those listed before it (no import cycles):
- `credentials`: where API tokens come from (environment or a 0600 file; never argv, never logs);
- `server`: start/stop/status of a local Label Studio (its own virtualenv), admin and token without prompts,
  owner-only data dir;
- `state`: mmdial's own project records (flow, parameters), kept where annotators cannot edit them;
- `client`: the thin adapter over label-studio-sdk 2.x (the only module that imports the SDK), with retries;
- `tasks`, `results`, `taxonomy`, `flows`: task identity and inputs, result items, label sets, the five flows;
- `projects`: finding and creating mmdial's projects;
- `versions`: which annotation of a task counts, who made each version, in which QC round;
- `importer`: importing the tasks the server lacks, surviving restarts;
- `qc`: the JDDC 2.1 group acceptance check (10% of each group of 100, 90% to pass) and re-queue;
- `sync`: push and pull (the pull includes the QC tables);
- `status`, `cli`: progress and the `mmdial annotate` command group.
"""
