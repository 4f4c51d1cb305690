"""Reading ratings: every format round-trips on tiny generated files, and bad input gets a one-line DataError
naming the file and line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from dmf_core.data import (
    DataError,
    dataset_fingerprint,
    from_triples,
    load_dataset,
    load_upload,
)
from dmf_core.data import sources as data_module
from dmf_core.data.formats import parse_ml1m_ratings
from dmf_core.data.sources import load_ml1m_folder
from tests.conftest import make_zip

# Six ratings by three users of three movies; movie 20's title is latin-1 on purpose.
ML1M_RATINGS = b"1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n2::30::1::978300275\n" \
    b"3::20::2::978824291\n3::30::5::978302268\n"  # fmt: skip
ML1M_MOVIES = "10::Toy Story (1995)::Animation\n20::Amélie (2001)::Comedy\n30::Heat (1995)::Action\n".encode("latin-1")
ML1M_USERS = b"1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55117\n"
ML100K_DATA = b"1\t10\t5\t881250949\n1\t20\t3\t891717742\n2\t10\t4\t878887116\n2\t30\t1\t880606923\n" \
    b"3\t20\t2\t886397596\n3\t30\t5\t884182806\n"  # fmt: skip
ML100K_ITEMS = "10|Toy Story (1995)|01-Jan-1995||http://x|0|0\n20|Amélie (2001)|01-Jan-2001||http://y|0|0\n" \
    "30|Heat (1995)|01-Jan-1995||http://z|0|1\n".encode("latin-1")  # fmt: skip
CSV_TRIPLES = "1,10,5\n1,20,3\n2,10,4\n2,30,1\n3,20,2\n3,30,5\n"


@pytest.fixture(autouse=True)
def no_shared_ml1m(monkeypatch, tmp_path):
    """Keep the machine's own MovieLens copies out of the "ml-1m" lookup unless a test puts them back."""
    monkeypatch.delenv(data_module.ML1M_ENV, raising=False)
    monkeypatch.setattr(data_module, "SHARED_ML1M_DIR", tmp_path / "no-shared-copy")


def _write(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path




def _ml1m_folder(root: Path) -> Path:
    folder = root / "ml-1m"
    for name, content in (("ratings.dat", ML1M_RATINGS), ("movies.dat", ML1M_MOVIES), ("users.dat", ML1M_USERS)):
        _write(folder, name, content)
    return folder


def _assert_six_ratings(data, *, titles: bool = True) -> None:
    assert (data.n_users, data.n_items, data.n_ratings) == (3, 3, 6)
    assert data.user_ids.tolist() == [1, 2, 3] and data.item_ids.tolist() == [10, 20, 30]
    assert data.users.tolist() == [0, 0, 1, 1, 2, 2] and data.items.tolist() == [0, 1, 0, 2, 1, 2]
    assert data.ratings.dtype == np.float32 and data.ratings.tolist() == [5, 3, 4, 1, 2, 5]
    if titles:
        assert data.item_titles == ["Toy Story (1995)", "Amélie (2001)", "Heat (1995)"]


# --- round trips --------------------------------------------------------------------------------------------------


def test_ml1m_folder_file_and_zip_agree(tmp_path):
    folder = _ml1m_folder(tmp_path)
    from_folder = load_dataset(folder)
    _assert_six_ratings(from_folder)
    assert from_folder.name == "ml-1m"
    assert load_ml1m_folder(folder).item_titles == from_folder.item_titles
    from_file = load_dataset(folder / "ratings.dat")  # titles come from the movies.dat beside it
    zip_path = _write(tmp_path, "ml-1m.zip", make_zip({f"ml-1m/{p.name}": p.read_bytes() for p in folder.iterdir()}))
    from_zip = load_dataset(zip_path)
    from_upload = load_upload("ml-1m.zip", zip_path.read_bytes())
    for other in (from_file, from_zip, from_upload):
        _assert_six_ratings(other)
        assert dataset_fingerprint(other) == dataset_fingerprint(from_folder)


def test_ml1m_genres_and_user_attributes_come_from_movies_and_users_dat(tmp_path):
    folder = _ml1m_folder(tmp_path)
    zip_path = _write(tmp_path, "ml-1m.zip", make_zip({f"ml-1m/{p.name}": p.read_bytes() for p in folder.iterdir()}))
    for data in (load_dataset(folder), load_dataset(folder / "ratings.dat"), load_dataset(zip_path)):
        assert data.item_genres == ["Animation", "Comedy", "Action"]
        assert data.user_attributes == {"gender": ["female", "male", "male"], "age": ["Under 18", "56+", "25-34"],
                                        "occupation": ["K-12 student", "self-employed", "scientist"]}
    (folder / "users.dat").unlink()
    without = load_dataset(folder)
    assert without.user_attributes is None and without.item_genres == ["Animation", "Comedy", "Action"]
    assert load_upload("ratings.dat", ML1M_RATINGS).item_genres is None  # no movies.dat: no genres, no error


def test_folder_one_level_up_is_searched(tmp_path):
    _ml1m_folder(tmp_path)
    _assert_six_ratings(load_dataset(tmp_path))


def test_ml100k_folder_file_andmake_zip(tmp_path):
    folder = tmp_path / "ml-100k"
    _write(folder, "u.data", ML100K_DATA)
    _write(folder, "u.item", ML100K_ITEMS)
    for spec in (folder, folder / "u.data"):
        data = load_dataset(spec)
        _assert_six_ratings(data)
        assert data.name == "ml-100k"
    zipped = make_zip({"ml-100k/u.data": ML100K_DATA, "ml-100k/u.item": ML100K_ITEMS, "ml-100k/README": b"x"})
    _assert_six_ratings(load_upload("ml-100k.zip", zipped))
    _assert_six_ratings(load_upload("u.data", ML100K_DATA), titles=False)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plain.csv", CSV_TRIPLES),
        ("header.csv", "userId,movieId,rating,timestamp\n" + CSV_TRIPLES.replace("\n", ",978300760\n")),
        ("semicolon.csv", CSV_TRIPLES.replace(",", ";")),
        ("tabs.tsv", "user\titem\trating\n" + CSV_TRIPLES.replace(",", "\t")),
        ("reordered.csv", "rating,item_id,user_id\n5,10,1\n3,20,1\n4,10,2\n1,30,2\n2,20,3\n5,30,3\n"),
        ("excel.csv", "\ufeffuser,item,rating\r\n" + CSV_TRIPLES.replace("\n", "\r\n") + "\r\n"),
        ("blank-lines.txt", "\n" + CSV_TRIPLES.replace("\n", "\n\n")),
    ],
)
def test_csv_and_tsv_variants(tmp_path, name, content):
    path = _write(tmp_path, name, content)
    data = load_dataset(path)
    _assert_six_ratings(data, titles=False)
    assert data.name == Path(name).stem
    assert dataset_fingerprint(load_upload(name, path.read_bytes())) == dataset_fingerprint(data)


def test_upload_of_ratings_dat_and_unnamed_file():
    _assert_six_ratings(load_upload("ratings.dat", ML1M_RATINGS), titles=False)
    _assert_six_ratings(load_upload("export", ML1M_RATINGS), titles=False)  # '::' gives the format away
    _assert_six_ratings(load_upload("C:\\Users\\me\\ratings.csv", CSV_TRIPLES.encode()), titles=False)


def test_progress_follows_the_file_read(tmp_path):
    path = _write(tmp_path, "ratings.csv", CSV_TRIPLES)
    calls: list[tuple[int, int]] = []
    load_dataset(path, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, path.stat().st_size) and calls[-1] == (path.stat().st_size,) * 2


# --- the "ml-1m" spec --------------------------------------------------------------------------------------------


def test_ml1m_spec_prefers_the_cached_download(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    _ml1m_folder(data_dir)
    monkeypatch.setenv(data_module.ML1M_ENV, str(tmp_path / "elsewhere"))  # not consulted: the cache wins
    _assert_six_ratings(load_dataset("ml-1m", data_dir=data_dir))


def test_ml1m_spec_reads_a_zip_put_in_the_data_folder(tmp_path):
    _write(tmp_path, "ml-1m.zip", make_zip({"ml-1m/ratings.dat": ML1M_RATINGS, "ml-1m/movies.dat": ML1M_MOVIES}))
    _assert_six_ratings(load_dataset("ml-1m", data_dir=tmp_path))


def test_ml1m_spec_uses_the_environment_then_the_shared_folder(tmp_path, monkeypatch):
    folder = _ml1m_folder(tmp_path / "copy")
    monkeypatch.setenv(data_module.ML1M_ENV, str(folder))
    _assert_six_ratings(load_dataset("ml-1m", data_dir=tmp_path / "empty"))
    monkeypatch.delenv(data_module.ML1M_ENV)
    monkeypatch.setattr(data_module, "SHARED_ML1M_DIR", folder)
    _assert_six_ratings(load_dataset("ml-1m", data_dir=tmp_path / "empty"))


def test_ml1m_spec_missing_says_how_to_download(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"python -m dmf_core download"):
        load_dataset("ml-1m", data_dir=tmp_path)
    monkeypatch.setenv(data_module.ML1M_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=data_module.ML1M_ENV):
        load_dataset("ml-1m", data_dir=tmp_path)


def test_unknown_spec_and_folder_without_ratings(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset(tmp_path / "missing.csv")
    _write(tmp_path, "notes.md", "hello")
    with pytest.raises(DataError, match="no ratings.dat"):
        load_dataset(tmp_path)


# --- bad input ---------------------------------------------------------------------------------------------------

BAD_FILES = [
    # (file name, content, line named in the message or None, words in the message)
    ("ratings.dat", "1::10::5::1\n1,20,3,2\n", 2, "separated by '::'"),
    ("ratings.dat", "1::10::5::1\n1::20::3\n", 2, "expected 4 fields"),
    ("ratings.dat", "1::10::5::1\n1::20::3::2::9\n", 2, "expected 4 fields"),
    ("ratings.dat", "1::10::5::1\n1::20::three::2\n", 2, "non-numeric rating 'three'"),
    ("ratings.dat", "1::10::5::1\nx::20::3::2\n", 2, "non-numeric user id 'x'"),
    ("ratings.dat", "1::10::5::1\n\n1::20::6::2\n", 3, "outside the scale 1..5"),
    ("ratings.dat", "1::10::5::1\n1::20::3::2\n1::10::4::3\n", 3, "duplicate rating for user 1 and item 10"),
    ("ratings.dat", "", None, "empty"),
    ("u.data", "1\t10\t5\t1\n1 20 3 2\n", 2, "wrong separator"),
    ("u.data", "1\t10\t5\t1\n1\t20\t0\t2\n", 2, "outside the scale"),
    ("r.csv", "1|10|5\n", 1, "separated by ',', ';' or tab"),
    ("r.csv", "1,10,5,1,7\n", 1, "found 5"),
    ("r.csv", "user,item,rating\n1,10,5\n1,20\n", 3, "found 2"),
    ("r.csv", "user,item,rating\n1,10,5\n1,twenty,3\n", 3, "non-numeric item id 'twenty'"),
    ("r.csv", "user,item,rating\n1,10,5\n1,20,\n", 3, "non-numeric rating ''"),
    ("ratings.dat", "1::10::4.5::1\n1::20::5.5::2\n", 2, "rating 5.5 is outside the scale 0.5..5"),
    ("ratings.dat", "1::10::4::1\n1::20::3.3::2\n", 2, "rating 3.3 is not on the scale 1..5 in steps of 1"),
    ("r.csv", "user,item,rating\n1,10,5\n\n2,10,3\n1,10,4\n", 5, "already rated on line 2"),
    ("r.tsv", "\n \n", None, "empty"),
    ("r.csv", "user,item,rating\n", None, "no ratings"),
]


@pytest.mark.parametrize(("name", "content", "line", "words"), BAD_FILES)
def test_bad_file_names_file_and_line(tmp_path, name, content, line, words):
    path = _write(tmp_path, name, content)
    with pytest.raises(DataError) as caught:
        load_dataset(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:") and "\n" not in message
    assert words in message
    if line is not None:
        assert f": line {line}:" in message


@pytest.mark.parametrize(("name", "content", "line", "words"), BAD_FILES)
def test_bad_upload_names_upload_and_line(name, content, line, words):
    with pytest.raises(DataError) as caught:
        load_upload(name, content.encode())
    assert str(caught.value).startswith(f"{name}:") and words in str(caught.value)


def test_parse_ml1m_ratings_names_the_source():
    with pytest.raises(DataError, match=r"^my\.dat: line 1: non-numeric item id 'a'"):
        parse_ml1m_ratings(b"1::a::3::4\n", "my.dat")


def test_from_triples_checks_scale_and_duplicates():
    with pytest.raises(DataError, match="line 2: rating 0 is outside"):
        from_triples(np.array([1, 2]), np.array([1, 1]), np.array([3.0, 0.0]), name="t", rating_scale=(1.0, 5.0))
    with pytest.raises(DataError, match="line 3: duplicate"):
        from_triples(np.array(["a", "b", "a"]), np.array([1, 1, 1]), np.array([3.0, 4.0, 5.0]), name="t")


def test_corrupt_and_hostile_zips(tmp_path):
    good = make_zip({"ml-1m/ratings.dat": ML1M_RATINGS})
    truncated = _write(tmp_path, "truncated.zip", good[: len(good) // 2])
    with pytest.raises(DataError, match=r"truncated\.zip: corrupt or not a zip file"):
        load_dataset(truncated)
    stored = make_zip({"ml-1m/ratings.dat": ML1M_RATINGS}, zipfile.ZIP_STORED)
    flipped = stored.replace(b"978300760", b"978300761")  # the CRC no longer matches
    with pytest.raises(DataError, match=r"bad\.zip: corrupt zip member ml-1m/ratings\.dat"):
        load_upload("bad.zip", flipped)
    with pytest.raises(DataError, match=r"escape"):
        load_upload("slip.zip", make_zip({"../ratings.dat": ML1M_RATINGS}))
    with pytest.raises(DataError, match=r"escape"):
        load_upload("abs.zip", make_zip({"/tmp/ratings.dat": ML1M_RATINGS}))
    with pytest.raises(DataError, match=r"no ratings\.dat, u\.data"):
        load_upload("other.zip", make_zip({"README": b"hello"}))
    with pytest.raises(DataError, match=r"^inner\.zip:ml-1m/ratings\.dat: line 1: non-numeric"):
        load_upload("inner.zip", make_zip({"ml-1m/ratings.dat": b"1::x::3::4\n"}))


# --- fingerprint -------------------------------------------------------------------------------------------------


def test_fingerprint_is_short_stable_and_sensitive():
    first = load_upload("a.csv", CSV_TRIPLES.encode())
    fingerprint = dataset_fingerprint(first)
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    assert dataset_fingerprint(load_upload("renamed.tsv", CSV_TRIPLES.replace(",", "\t").encode())) == fingerprint
    swapped = CSV_TRIPLES.replace("1,10,5", "1,10,3").replace("1,20,3", "1,20,5")  # same sums, other data
    assert dataset_fingerprint(load_upload("a.csv", swapped.encode())) != fingerprint


# --- the real thing ----------------------------------------------------------------------------------------------


def test_real_movielens_1m(ml1m_dir):  # the fixture skips when ../shared/data/ml-1m is absent
    data = load_dataset(ml1m_dir)
    assert (data.n_users, data.n_items, data.n_ratings) == (6040, 3706, 1_000_209)
    assert data.title(int(np.searchsorted(data.item_ids, 1))) == "Toy Story (1995)"
    assert set(np.unique(data.ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert data.item_genres[int(np.searchsorted(data.item_ids, 1))] == "Animation|Children's|Comedy"
    assert {len(set(values)) for values in data.user_attributes.values()} == {2, 7, 21}  # gender, age, occupation
