"""The command line, `python -m dmf_core`: run with `--help` for every command and flag.

- `main`: the parser and `train`, `evaluate`, `info`, `download`, `reproduce`;
- `library`: the trained model's commands, `recommend` and `predict`, and `rank-eval`.

The top layer of the library: nothing in `dmf_core` imports it.
"""
