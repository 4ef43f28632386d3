"""The everyday photo set (tests/data/everyday) and its one split into a tuning part and a report part.

The set's manifests are `photos*.toml` in the folder: one `[[photo]]` entry per photo, saying what it shows
(see the header of photos.toml). A figure tuned and reported on the same photos overstates, so the set is
split once:

- the photos the caption rules and story prompts were tuned on before the set grew (listed in `TUNED`) are
  the tuning part;
- every later photo goes to the report part or the tuning part by the first byte of its file name's SHA-256
  (even: report), fixed before anything was tuned on it.

Only the tuning part may be looked at to change rules or prompts; `make caption-eval` and `make story-eval`
report both parts, and the README quotes the report part.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args

Part = Literal["report", "tuning"]
PARTS: tuple[Part, ...] = get_args(Part)

ROOT = Path(__file__).resolve().parents[1]
EVERYDAY = ROOT / "tests" / "data" / "everyday"
TUNED = EVERYDAY / "TUNED"
PERSONAL_WORDS = ROOT / "bench" / "personal_words.toml"


def tuned_files(folder: Path = EVERYDAY) -> frozenset[str]:
    """The photos tuned on before the split: one file name per line, `#` starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in (folder / TUNED.name).read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line)


def part_of(file: str, tuned: frozenset[str]) -> Part:
    """The part a photo belongs to, by the rule in this module's docstring."""
    if file in tuned:
        return "tuning"
    return "report" if hashlib.sha256(file.encode()).digest()[0] % 2 == 0 else "tuning"


def load_photos(folder: Path = EVERYDAY) -> list[dict[str, Any]]:
    """Every manifest entry of the folder, sorted by file name, each with its `part` added."""
    entries: list[dict[str, Any]] = []
    for manifest in sorted(folder.glob("photos*.toml")):
        with manifest.open("rb") as fh:
            entries += tomllib.load(fh)["photo"]
    files = [str(entry["file"]) for entry in entries]
    repeated = sorted({file for file in files if files.count(file) > 1})
    missing = sorted(file for file in files if not (folder / file).is_file())
    if repeated or missing:
        raise ValueError(f"everyday manifests: repeated {repeated}, missing {missing}")
    tuned = tuned_files(folder)
    return sorted(({**entry, "part": part_of(str(entry["file"]), tuned)} for entry in entries), key=lambda e: e["file"])


def photos_of(part: Part | Literal["all"], folder: Path = EVERYDAY) -> list[dict[str, Any]]:
    """The photos of one part, or all of them."""
    return [photo for photo in load_photos(folder) if part == "all" or photo["part"] == part]


def stories_read(words: Path = PERSONAL_WORDS) -> frozenset[str]:
    """Report-part photos whose stories were read while something was tuned: `make personal-eval`'s (the names and
    places of personal stories were tuned on them). `make story-eval` leaves them out."""
    with words.open("rb") as fh:
        return frozenset(str(entry["file"]) for entry in tomllib.load(fh)["entry"])
