"""MovieLens-100K by name: `u.data` ratings with titles and genres from `u.item` and user attributes from `u.user`,
on small files written here in the release's exact formats; `ml-100k` found like `ml-1m`; the download checked
against GroupLens' published md5 (a fake zip served locally)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dmf_core.cli import main as cli
from dmf_core.data import DataError, download, load_dataset, load_upload
from dmf_core.data import sources as data_module
from dmf_core.data.download import DownloadError
from dmf_core.data.movielens import ML100K_GENRES, ml1m_age_group
from tests.conftest import make_zip
from tests.test_download import grouplens  # noqa: F401 (the fake GroupLens server fixture)

ENV = "DMF_ML100K_DIR"
# u.data: user id \t item id \t rating \t timestamp
U_DATA = b"1\t10\t5\t881250949\n1\t20\t3\t891717742\n2\t10\t4\t878887116\n2\t30\t1\t880606923\n" \
    b"3\t20\t2\t886397596\n3\t30\t5\t884182806\n"  # fmt: skip


def _flags(*genres: str) -> str:
    return "|".join("1" if name in genres else "0" for name in ML100K_GENRES)


CHILDRENS = "Children's"
# u.item: movie id | title | release date | video release date | IMDb URL | 19 genre flags (latin-1)
U_ITEM = (
    f"10|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|"
    f"{_flags('Animation', CHILDRENS, 'Comedy')}\n"
    f"20|Amélie (2001)|01-Jan-2001||http://us.imdb.com/x|{_flags('Comedy', 'Romance')}\n"
    f"30|unknown|||http://us.imdb.com/y|{_flags('unknown')}\n"
).encode("latin-1")
# u.user: user id | age | gender | occupation | zip code
U_USER = b"1|24|M|technician|85711\n2|53|F|other|94043\n3|17|M|student|32067\n"
# ML-100K's u.genre, as shipped: the flags' order
U_GENRE = "\n".join(f"{name}|{i}" for i, name in enumerate(ML100K_GENRES)) + "\n\n"


@pytest.fixture(autouse=True)
def no_shared_copies(monkeypatch, tmp_path):
    """Keep the machine's own MovieLens copies out of the lookups unless a test puts them back."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(data_module, "SHARED_DATA_DIR", tmp_path / "no-shared-copy")


def _release_files() -> dict[str, bytes]:
    return {"u.data": U_DATA, "u.item": U_ITEM, "u.user": U_USER, "u.genre": U_GENRE.encode(),
            "u1.base": U_DATA[:40], "README": b"MovieLens 100K"}


def _folder(root: Path) -> Path:
    folder = root / "ml-100k"
    folder.mkdir(parents=True)
    for name, content in _release_files().items():
        (folder / name).write_bytes(content)
    return folder


def _assert_release(data, *, users: bool = True) -> None:
    assert data.name == "ml-100k" and (data.n_users, data.n_items, data.n_ratings) == (3, 3, 6)
    assert data.ratings.tolist() == [5, 3, 4, 1, 2, 5] and data.rating_scale == (1.0, 5.0)
    assert data.item_titles == ["Toy Story (1995)", "Amélie (2001)", "unknown"]
    assert data.item_genres == ["Animation|Children's|Comedy", "Comedy|Romance", ""]
    if users:
        assert data.user_attributes == {"gender": ["male", "female", "male"], "age": ["18-24", "50-55", "Under 18"],
                                        "occupation": ["technician", "other", "student"]}


def test_folder_file_and_zip_give_ratings_titles_genres_and_users(tmp_path):
    folder = _folder(tmp_path)
    zip_path = tmp_path / "ml-100k.zip"
    zip_path.write_bytes(make_zip({f"ml-100k/{name}": content for name, content in _release_files().items()}))
    for spec in (folder, folder / "u.data", zip_path):
        _assert_release(load_dataset(spec))
    _assert_release(load_upload("ml-100k.zip", zip_path.read_bytes()))
    (folder / "u.user").unlink()
    assert load_dataset(folder).user_attributes is None  # decoration only: missing, not an error


def test_age_groups_follow_ml1m():
    assert [ml1m_age_group(a) for a in (7, 18, 24, 25, 44, 45, 49, 50, 55, 56, 73)] == [
        "Under 18", "18-24", "18-24", "25-34", "35-44", "45-49", "45-49", "50-55", "50-55", "56+", "56+"]


def test_malformed_decoration_lines_are_skipped(tmp_path):
    folder = _folder(tmp_path)
    (folder / "u.item").write_bytes(U_ITEM + b"garbage line\n40|Short|row\n")
    (folder / "u.user").write_bytes(U_USER + b"x|y\n4|old|M|writer|1\n")
    _assert_release(load_dataset(folder))


def test_ml100k_spec_is_found_like_ml1m(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    with pytest.raises(DataError, match=r"MovieLens-100K not found.*download --dataset ml-100k.*DMF_ML100K_DIR"):
        load_dataset("ml-100k", data_dir=data_dir)
    shared = _folder(tmp_path / "shared")
    monkeypatch.setattr(data_module, "SHARED_DATA_DIR", tmp_path / "shared")
    _assert_release(load_dataset("ml-100k", data_dir=data_dir))
    elsewhere = _folder(tmp_path / "elsewhere")
    (elsewhere / "u.user").unlink()
    monkeypatch.setenv(ENV, str(elsewhere))  # the variable comes before the shared folder
    _assert_release(load_dataset("ml-100k", data_dir=data_dir), users=False)
    monkeypatch.setenv(ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=ENV):
        load_dataset("ml-100k", data_dir=data_dir)
    data_dir.mkdir()
    (data_dir / "ml-100k.zip").write_bytes(make_zip({f"ml-100k/{p.name}": p.read_bytes() for p in shared.iterdir()}))
    _assert_release(load_dataset("ml-100k", data_dir=data_dir))  # a zip put in data/ by hand wins


def test_published_md5_is_the_one_checked():
    known = download.release("ml-100k")
    assert known.zip_md5 == "0e33842e24a9c977be4e0107933c0723" and known.ratings == "u.data"
    assert known.url == "https://files.grouplens.org/datasets/movielens/ml-100k.zip"


@pytest.fixture
def fake_ml100k(grouplens, monkeypatch) -> bytes:  # noqa: F811 (pytest injects the imported fixture)
    payload = make_zip({f"ml-100k/{name}": content for name, content in _release_files().items()})
    grouplens.files["/ml-100k.zip"] = payload
    monkeypatch.setitem(download.RELEASES, "ml-100k", download.Release(
        f"{grouplens.base}/ml-100k.zip", hashlib.md5(payload).hexdigest(), "u.data"))
    return payload


def test_download_verifies_the_md5_and_loads_by_name(fake_ml100k, tmp_path, capsys):
    assert cli.main(["download", "--dataset", "ml-100k", "--data-dir", str(tmp_path)]) == 0
    assert "MovieLens-100K ready in" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "ml-100k").iterdir()) == sorted(_release_files())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    _assert_release(load_dataset("ml-100k", data_dir=tmp_path))


def test_a_zip_with_another_md5_is_refused_and_leaves_nothing(fake_ml100k, tmp_path, monkeypatch):
    url = download.RELEASES["ml-100k"].url
    monkeypatch.setitem(download.RELEASES, "ml-100k", download.Release(url, "0e33842e24a9c977be4e0107933c0723",
                                                                       "u.data"))
    with pytest.raises(DownloadError, match="md5 checksum mismatch"):
        download.download_movielens("ml-100k", tmp_path)
    assert list(tmp_path.iterdir()) == []
