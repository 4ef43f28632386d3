"""The everyday photo set's one split: tuned photos stay in the tuning part, later ones split by a fixed hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bench.photo_set import EVERYDAY, load_photos, part_of, photos_of, tuned_files


def write_set(folder: Path, manifests: dict[str, list[str]], tuned: list[str]) -> None:
    for name, files in manifests.items():
        entries = "".join(f'[[photo]]\nfile = "{file}"\ncategory = "object"\n\n' for file in files)
        (folder / name).write_text(entries, encoding="utf-8")
        for file in files:
            (folder / file).write_bytes(b"jpeg")
    (folder / "TUNED").write_text("# tuned before the split\n" + "\n".join(tuned) + "\n", encoding="utf-8")


def test_tuned_photos_are_the_tuning_part_and_the_others_split_by_the_hash_of_their_name() -> None:
    names = [f"photo-{i}.jpg" for i in range(40)]
    parts = {name: part_of(name, frozenset({"photo-0.jpg"})) for name in names}
    assert parts["photo-0.jpg"] == "tuning"
    for name in names[1:]:
        even = hashlib.sha256(name.encode()).digest()[0] % 2 == 0
        assert parts[name] == ("report" if even else "tuning")
    assert 10 <= list(parts.values()).count("report") <= 30  # a split, not everything on one side


def test_every_manifest_is_read_sorted_with_its_part(tmp_path: Path) -> None:
    write_set(tmp_path, {"photos.toml": ["b.jpg", "a.jpg"], "photos-more.toml": ["c.jpg"]}, ["a.jpg"])
    photos = load_photos(tmp_path)
    assert [p["file"] for p in photos] == ["a.jpg", "b.jpg", "c.jpg"]
    assert photos[0]["part"] == "tuning"
    assert {p["file"] for p in photos_of("report", tmp_path)} | {p["file"] for p in photos_of("tuning", tmp_path)} == {
        "a.jpg",
        "b.jpg",
        "c.jpg",
    }


def test_a_photo_listed_twice_or_missing_is_an_error(tmp_path: Path) -> None:
    write_set(tmp_path, {"photos.toml": ["a.jpg"], "photos-more.toml": ["a.jpg"]}, [])
    with pytest.raises(ValueError, match="repeated"):
        load_photos(tmp_path)
    (tmp_path / "photos-more.toml").write_text('[[photo]]\nfile = "gone.jpg"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"gone\.jpg"):
        load_photos(tmp_path)


def test_the_shipped_set_has_a_report_part_of_photos_never_tuned_on() -> None:
    tuned = tuned_files()
    report = photos_of("report")
    assert report and not {p["file"] for p in report} & tuned
    assert tuned <= {p["file"] for p in load_photos(EVERYDAY)}
