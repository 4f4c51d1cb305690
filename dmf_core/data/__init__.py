"""Rating data in, one shape out: every source (generated demo, MovieLens files, tables, uploads) becomes `RatingData`.

- `ratings`: `RatingData`, `from_triples` (ids remapped, scale and duplicates checked), `DataError`, fingerprints;
- `formats`: parsers for MovieLens `ratings.dat` / `u.data` and CSV/TSV tables;
- `sources`: `load_dataset(spec)` / `load_upload(name, bytes)`, folders, zips, and where MovieLens-1M lives;
- `download`: the checksum-verified MovieLens-1M download;
- `demo`: the generated, MovieLens-shaped demo data.

This package imports nothing else from `dmf_core` but `errors`: it is the bottom layer.
"""

from .ratings import DataError, RatingData, dataset_fingerprint, from_triples
from .sources import DATA_DIR, ML1M_ENV, find_ml1m, load_dataset, load_upload

__all__ = [
    "DATA_DIR",
    "ML1M_ENV",
    "DataError",
    "RatingData",
    "dataset_fingerprint",
    "find_ml1m",
    "from_triples",
    "load_dataset",
    "load_upload",
]
