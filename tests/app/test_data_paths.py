"""The Data page's Path field reads only the data, shared and upload folders (and DMF_DATA_PATHS): anything else,
existing or not, gets the same one line (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio import data_paths


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def load_path(at, text: str):
    at.text_input(key="data-path").input(text)
    if at.button(key="data-load-path").disabled:  # the field was empty (no ML-1M found): typing enables Load first,
        at.run()  # as the browser's rerun on leaving the field does
    at.button(key="data-load-path").click().run()  # the typed path and the click, as a browser sends them
    assert not at.exception
    return at


def ratings_csv(folder: Path, users: int = 12) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{u},{i},{(u + i) % 5 + 1}\n" for u in range(users) for i in range(10) if (u + i) % 3)
    (folder / "ratings.csv").write_text("user,item,rating\n" + rows)
    return folder


@pytest.fixture
def outside(tmp_path) -> Path:
    """A readable ratings folder outside every allowed folder (tmp_path/data is DMF_DATA_DIR in the app tests)."""
    return ratings_csv(tmp_path / "elsewhere")


def test_paths_outside_get_one_identical_line_whether_or_not_they_exist(open_page, isolated, outside):
    data = isolated.parent / "data"
    data.mkdir()
    (data / "to-etc").symlink_to("/etc")
    (data / "to-elsewhere").symlink_to(outside)
    linked = data / "linked"  # an allowed folder whose ratings file points out
    linked.mkdir()
    (linked / "ratings.csv").symlink_to(outside / "ratings.csv")
    at = open_page("data")
    at.radio(key="data-source").set_value("local").run()
    shown = []
    for text in ("/etc", "/nonexistent-dir-xyz", str(outside), f"{data}/../elsewhere", f"{data}/../../../../etc",
                 str(data / "to-etc"), str(data / "to-elsewhere"), str(linked), str(linked / "ratings.csv")):
        shown.append(errors(load_path(at, text)))
    expected = data_paths.refusal(data_paths.allowed_roots())
    assert expected.startswith("this server only reads datasets under ")
    assert shown == [[expected]] * len(shown), shown
    assert "etc" not in expected and "exist" not in expected
    assert at.metric[0].value == "400"  # the demo stays


def test_an_allowed_folder_loads(open_page, isolated):
    folder = ratings_csv(isolated.parent / "data" / "mine")
    at = load_path(open_page("data").radio(key="data-source").set_value("local").run(), str(folder))
    assert errors(at) == [] and at.metric[0].value == "12"


def test_the_operator_switch(monkeypatch, isolated, outside):
    monkeypatch.delenv(data_paths.PATHS_ENV, raising=False)
    with pytest.raises(data_paths.OutsideDataPaths):
        data_paths.check(str(outside))
    monkeypatch.setenv("DMF_ML100K_DIR", str(outside))  # a MovieLens copy the operator named
    assert data_paths.check(str(outside / "ratings.csv")) == outside / "ratings.csv"
    monkeypatch.delenv("DMF_ML100K_DIR")
    archive = outside / "ml-1m.zip"  # a variable may name a zip: it is readable, what lies beside it is not
    archive.write_bytes(b"PK")
    monkeypatch.setenv("DMF_ML1M_DIR", str(archive))
    assert data_paths.check(str(archive)) == archive
    with pytest.raises(data_paths.OutsideDataPaths):
        data_paths.check(str(outside / "ratings.csv"))
    monkeypatch.delenv("DMF_ML1M_DIR")
    monkeypatch.setenv(data_paths.PATHS_ENV, f"/nowhere-else,{outside}")
    assert data_paths.check(f"{outside}/../elsewhere") == outside
    with pytest.raises(data_paths.OutsideDataPaths):
        data_paths.check("/etc")
    monkeypatch.setenv(data_paths.PATHS_ENV, "*")  # a single-user laptop: everything
    assert data_paths.check("/etc") == Path("/etc").resolve()
