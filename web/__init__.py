"""The web page: the original system's own interface, on aiohttp, fed by the same pipeline events as the bot.

- `server`: `WebPage` (the page, its API, start/stop) — shares the bot's pipeline, photo sources and queue;
- `standalone`: the page alone, for `make run` without a Telegram token;
- `stories`: the stories in memory, by unguessable expiring id;
- `texts`: what the server says, in Portuguese.

Imports app/ and pipeline/, never handlers/ or telegram (tests/test_rooms.py).
"""

from .server import WebPage

__all__ = ["WebPage"]
