"""What every stage's backend has, whatever the stage: a name and a `load()` that warms its model once."""

from __future__ import annotations

from typing import Protocol


class Backend(Protocol):
    name: str  # in logs and metrics: "classifier", "llama", "offline", "rhvoice", ...

    def load(self) -> None:
        """Load the model now (blocking; called once from a thread at start-up, or lazily on first use)."""
        ...
