"""Portuguese words both front ends say, one table each: the bot (/estilo, /tamanho, /historias) and the web
page (its story choices) name the kinds and lengths of story alike, and write sizes alike."""

from __future__ import annotations

__all__ = ["KIND_NAMES", "LENGTH_BUTTONS", "megabytes"]

KIND_NAMES: dict[str, str] = {  # by StoryKind, in its order
    "classic": "Clássica",
    "bedtime": "Para dormir",
    "adventure": "Aventura",
    "fable": "Fábula",
    "mystery": "Mistério",
    "funny": "Engraçada",
    "poem": "Poema",
}
LENGTH_BUTTONS: dict[str, str] = {  # by StoryLength, in its order
    "short": "Curta (~60 palavras)",
    "medium": "Média (~120)",
    "long": "Longa (~200)",
}


def megabytes(size_bytes: int) -> str:
    """A size in MB as it is written in Brazil, without a useless decimal: "20", "0,2"."""
    return f"{size_bytes / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")
