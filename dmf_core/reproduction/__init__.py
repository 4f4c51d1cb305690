"""The reproduction of the paper's Tables 1 and 2 (`python -m dmf_core reproduce`), with the baselines.

- `base`: the one interface of every model it runs (`Model`: fit, predict, evaluate) and the baselines' epoch loop;
- `means`, `mf`, `autorec`: the baselines, one module per family; `models`: them by key;
- `dmf`: DMF and DMF-D behind the same interface;
- `plans`: which models each table runs, with their budgets and settings;
- `runner`: runs a table's (model, seed) pairs and the `reproduce` command;
- `tables`: per-seed result files, their aggregate and the written tables.
"""
