"""The web page: the original system's own interface, on aiohttp, fed by the same pipeline events as the bot.

- `server`: `WebPage` (the routes, start/stop) — shares the bot's pipeline, photo sources and queue;
- `static`: the page's own files (web/static), served with an ETag;
- `starting`: POST /api/stories and /api/stories/random, with `forms` (what a request asks for, checked) and
  `limits` (the client's address, stories per minute);
- `runs`: the queued job that streams the pipeline into a story's events;
- `following`: a story's snapshot, its Server-Sent Events, its photo and voice;
- `problems`: errors as JSON in Portuguese; `security`: the headers on every answer;
- `stories`: the stories in memory, by unguessable expiring id;
- `standalone`: the page alone, for `make run` without a Telegram token (services from app/services.py);
- `texts`: what the server says, in Portuguese.

Imports app/ and pipeline/, never handlers/ or telegram (tests/test_rooms.py).
"""

from .server import WebPage

__all__ = ["WebPage"]
