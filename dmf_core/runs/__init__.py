"""Runs on disk: a folder with `metrics.json` and `checkpoint.pt`, made by the command line's `train`, the app's
background jobs and `DMF.save` alike.

- `folder`: `train_run` (split, train, score every area, write the folder), resume, evaluate, and reading run
  folders back (`read_run`, `list_runs`);
- `checkpoint`: the plain-dict checkpoint, written atomically and read with `weights_only=True`.
"""
