"""Warn once per kind of trouble, then whisper: one helper for every "log this only the first time".

Why a module of its own: several backends fall back quietly when something outside them is missing or
failing (googletrans blocked, RHVoice not installed, Unsplash down) and would otherwise log the same
warning on every request. Each used to keep its own set of already-warned keys; the rule lives here once.
It is neither text nor a stage, and has no dependencies, so any module (pipeline or not) can use it.
"""

from __future__ import annotations

import logging


class WarnOnce:
    """Logs a warning the first time each key is seen, and the same message at DEBUG level afterwards.

    One instance per scope of "once": a module-level one warns once per process, one per object once per
    object. `reset()` makes every key warn again (e.g. after the service recovered). Not locked: at worst
    two threads racing on a new key both warn, which is harmless.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._seen: set[str] = set()

    def warn(self, key: str, message: str, *args: object) -> None:
        level = logging.DEBUG if key in self._seen else logging.WARNING
        self._seen.add(key)
        self._logger.log(level, message, *args, stacklevel=2)

    def reset(self) -> None:
        self._seen.clear()
