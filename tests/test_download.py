"""Downloading MovieLens (1M, and 10M/20M/25M below), offline: a local HTTP server plays GroupLens and serves small fake zips.

Every failure must leave the data folder as it was: no .part files, no staging folders, no half ml-1m/."""

from __future__ import annotations

import hashlib
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dmf_core.cli import main as cli
from dmf_core.data import DataError, download, load_dataset
from dmf_core.data import sources as data_module
from dmf_core.data.download import DownloadError, download_ml1m, extract_zip_safely
from tests.conftest import make_zip

FAKE_RATINGS = b"1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n2::20::1::978300275\n"
FAKE_MOVIES = b"10::Toy Story (1995)::Animation\n20::Heat (1995)::Action\n"




FAKE_ZIP = make_zip({"ml-1m/": b"", "ml-1m/ratings.dat": FAKE_RATINGS, "ml-1m/movies.dat": FAKE_MOVIES})


class _Server:
    """Serves `files` by URL path from 127.0.0.1 in a thread; counts requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests += 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval: shutdown() waits for the serving loop to notice, 0.5 s per test by default.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def grouplens(monkeypatch) -> Iterator[_Server]:
    """A fake GroupLens with the module's URL and checksums pointed at it."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = _Server()
    server.files["/ml-1m.zip"] = FAKE_ZIP
    monkeypatch.setattr(download, "ML1M_URL", f"{server.base}/ml-1m.zip")
    monkeypatch.setattr(download, "ML1M_ZIP_MD5", hashlib.md5(FAKE_ZIP).hexdigest())
    monkeypatch.setattr(download, "ML1M_RATINGS_SHA256", hashlib.sha256(FAKE_RATINGS).hexdigest())
    yield server
    server.close()


def _contents(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_download_installs_verified_copy(grouplens, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    calls: list[tuple[int, int]] = []
    folder = download_ml1m(data_dir, progress=lambda done, total: calls.append((done, total)))
    assert folder == data_dir / "ml-1m"
    assert _contents(data_dir) == ["ml-1m", "ml-1m/movies.dat", "ml-1m/ratings.dat"]  # no temp files left
    assert calls[0] == (0, len(FAKE_ZIP)) and calls[-1] == (len(FAKE_ZIP), len(FAKE_ZIP))
    monkeypatch.setattr(data_module, "SHARED_ML1M_DIR", tmp_path / "none")
    monkeypatch.delenv(data_module.ML1M_ENV, raising=False)
    data = load_dataset("ml-1m", data_dir=data_dir)
    assert (data.n_users, data.n_items, data.n_ratings) == (2, 2, 4) and data.item_titles[1] == "Heat (1995)"
    # Cached: a second call does not touch the network; force fetches again and swaps the copy in place.
    download_ml1m(data_dir)
    assert grouplens.requests == 1
    download_ml1m(data_dir, force=True)
    assert grouplens.requests == 2 and _contents(data_dir) == ["ml-1m", "ml-1m/movies.dat", "ml-1m/ratings.dat"]


def test_zip_checksum_mismatch_leaves_nothing(grouplens, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "ML1M_ZIP_MD5", "0" * 32)
    with pytest.raises(DownloadError, match="md5 checksum mismatch"):
        download_ml1m(tmp_path)
    assert _contents(tmp_path) == []


def test_ratings_checksum_mismatch_leaves_nothing(grouplens, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "ML1M_RATINGS_SHA256", "0" * 64)
    with pytest.raises(DownloadError, match=r"ratings\.dat: sha256 checksum mismatch"):
        download_ml1m(tmp_path)
    assert _contents(tmp_path) == []


def test_failed_forced_download_keeps_the_old_copy(grouplens, tmp_path, monkeypatch):
    download_ml1m(tmp_path)
    monkeypatch.setattr(download, "ML1M_ZIP_MD5", "0" * 32)
    with pytest.raises(DownloadError):
        download_ml1m(tmp_path, force=True)
    assert _contents(tmp_path) == ["ml-1m", "ml-1m/movies.dat", "ml-1m/ratings.dat"]


def test_http_error_is_one_line(grouplens, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404") as caught:
        download_ml1m(tmp_path, url=f"{grouplens.base}/missing.zip")
    assert "\n" not in str(caught.value)
    assert _contents(tmp_path) == []


def test_offline_fails_with_one_line_and_leaves_nothing(tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match="cannot connect") as caught:
        download_ml1m(tmp_path, url=f"http://127.0.0.1:{port}/ml-1m.zip")
    assert "\n" not in str(caught.value) and isinstance(caught.value, DataError)
    assert _contents(tmp_path) == []


def test_cli_reports_success_and_failure(grouplens, tmp_path, capsys):
    assert cli.main(["download", "--data-dir", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "ml-1m" / "ratings.dat").is_file()
    # The one command line (`python -m dmf_core download`): a failed download is one error line, exit status 2.
    assert cli.main(["download", "--data-dir", str(tmp_path / "bad"), "--url", f"{grouplens.base}/nope.zip"]) == 2
    assert "error:" in capsys.readouterr().err


# --- extract_zip_safely -----------------------------------------------------------------------------------------


def test_extract_writes_all_members(tmp_path):
    archive = tmp_path / "ok.zip"
    archive.write_bytes(FAKE_ZIP)
    written = extract_zip_safely(archive, tmp_path / "out")
    assert sorted(p.name for p in written) == ["movies.dat", "ratings.dat"]
    assert (tmp_path / "out" / "ml-1m" / "ratings.dat").read_bytes() == FAKE_RATINGS
    assert _contents(tmp_path) == ["ok.zip", "out", "out/ml-1m", "out/ml-1m/movies.dat", "out/ml-1m/ratings.dat"]


@pytest.mark.parametrize("member", ["../evil.txt", "ml-1m/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt"])
def test_extract_rejects_members_escaping_the_target(tmp_path, member):
    archive = tmp_path / "slip.zip"
    archive.write_bytes(make_zip({"ml-1m/ratings.dat": FAKE_RATINGS, member: b"gotcha"}))
    with pytest.raises(DataError, match="would escape the target folder") as caught:
        extract_zip_safely(archive, tmp_path / "out")
    assert str(caught.value).startswith(str(archive)) and "\n" not in str(caught.value)
    assert _contents(tmp_path) == ["slip.zip"]  # nothing extracted, not even the harmless member


def test_extract_rejects_corrupt_zips(tmp_path):
    not_zip = tmp_path / "junk.zip"
    not_zip.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(DataError, match=r"junk\.zip: corrupt or not a zip file"):
        extract_zip_safely(not_zip, tmp_path / "out")
    bad_crc = tmp_path / "crc.zip"
    stored = make_zip({"a.txt": b"first member", "ml-1m/ratings.dat": FAKE_RATINGS}, zipfile.ZIP_STORED)
    bad_crc.write_bytes(stored.replace(b"978300760", b"978300761"))
    with pytest.raises(DataError, match=r"corrupt zip member ml-1m/ratings\.dat"):
        extract_zip_safely(bad_crc, tmp_path / "out")
    assert _contents(tmp_path) == ["crc.zip", "junk.zip"]  # a.txt was unpacked to scratch, then removed


def test_extract_refuses_a_non_empty_target(tmp_path):
    archive = tmp_path / "ok.zip"
    archive.write_bytes(FAKE_ZIP)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not an empty folder"):
        extract_zip_safely(archive, tmp_path / "out")


# --- ML-10M, ML-20M, ML-25M -------------------------------------------------------------------------------------

HALF_STARS = "userId,movieId,rating,timestamp\n1,10,3.5,1147880044\n1,20,5.0,1147868817\n2,10,0.5,1147868828\n"
RELEASE_ZIPS = {
    # name: (zip members, the file that must land in data/<name>/)
    "ml-10m": ({"ml-10M100K/ratings.dat": b"1::10::3.5::978300760\n2::10::0.5::978301968\n",
                "ml-10M100K/movies.dat": b"10::Toy Story (1995)::Animation\n"}, "ratings.dat"),
    "ml-20m": ({"ml-20m/ratings.csv": HALF_STARS.encode(),
                "ml-20m/movies.csv": b'movieId,title,genres\n10,"Heat, The (1995)",Action\n'}, "ratings.csv"),
    "ml-25m": ({"ml-25m/ratings.csv": HALF_STARS.encode(), "ml-25m/genome-tags.csv": b"tagId,tag\n1,007\n"},
               "ratings.csv"),
}


@pytest.fixture
def releases(grouplens, monkeypatch) -> dict[str, bytes]:
    """The fake GroupLens also serves a tiny zip per newer release, with the releases' URLs and md5s pointed at it."""
    zips = {}
    for name, (members, ratings) in RELEASE_ZIPS.items():
        zips[name] = make_zip(members)
        grouplens.files[f"/{name}.zip"] = zips[name]
        monkeypatch.setitem(download.RELEASES, name, download.Release(
            f"{grouplens.base}/{name}.zip", hashlib.md5(zips[name]).hexdigest(), ratings))
    return zips


@pytest.mark.parametrize("name", sorted(RELEASE_ZIPS))
def test_newer_releases_download_verified_and_load_by_name(releases, tmp_path, name):
    folder = download.download_movielens(name, tmp_path)
    ratings = RELEASE_ZIPS[name][1]
    assert folder == tmp_path / name and (folder / ratings).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    data = load_dataset(name, data_dir=tmp_path)
    assert data.name == name and data.rating_scale == (0.5, 5.0) and data.rating_step == 0.5


def test_newer_release_checksum_mismatch_leaves_nothing(releases, tmp_path, monkeypatch):
    monkeypatch.setitem(download.RELEASES, "ml-25m", download.Release(download.RELEASES["ml-25m"].url, "0" * 32,
                                                                      "ratings.csv"))
    with pytest.raises(DownloadError, match="md5 checksum mismatch"):
        download.download_movielens("ml-25m", tmp_path)
    assert _contents(tmp_path) == []


def test_every_release_has_its_published_md5_and_unverified_ones_are_refused(tmp_path, monkeypatch):
    for name in download.NAMES:
        assert len(download.release(name).zip_md5) == 32, name
    monkeypatch.setitem(download.RELEASES, "ml-20m", download.Release("http://127.0.0.1:9/ml-20m.zip", "", "ratings.csv"))
    with pytest.raises(DownloadError, match="no published checksum"):
        download.download_movielens("ml-20m", tmp_path)
    with pytest.raises(DataError, match="unknown MovieLens release"):
        download.download_movielens("ml-5m", tmp_path)
    assert _contents(tmp_path) == []


def test_cli_downloads_a_chosen_release(releases, tmp_path, capsys):
    assert cli.main(["download", "--dataset", "ml-25m", "--data-dir", str(tmp_path)]) == 0
    assert "MovieLens-25M ready in" in capsys.readouterr().out
    assert (tmp_path / "ml-25m" / "ratings.csv").is_file() and (tmp_path / "ml-25m" / "genome-tags.csv").is_file()
