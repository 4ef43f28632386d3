"""A loopback stand-in for an OpenAI-compatible server's `POST /v1/chat/completions` (Ollama, vLLM, ...).

Every request is recorded (headers and JSON body). `mode` chooses the behaviour of the next requests:
"ok-json" answers a caption request (one with an image part) with `caption_json` as JSON text — inside
```json fences when `fenced` — and a story request with `story`; "ok-plain" answers a caption request with
`caption_plain`; "slow" waits (at most `hang_s`, and never past stop()) before answering like "ok-json";
"http-500" answers 500; "malformed" answers 200 with JSON that is no chat completion; "garbage" answers
200 with HTML; "empty" answers a completion whose content is "".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from tools.loopback import LoopbackFake

Mode = Literal["ok-json", "ok-plain", "slow", "http-500", "malformed", "garbage", "empty"]

STORY = (
    "Sure! Here is a short story:\n\n"
    "Nina found a sleepy cat on the red sofa of her grandmother's house. The cat would not move, not even "
    "for a bowl of milk. Nina sat beside it and read a book aloud, page after page. Slowly the cat opened "
    "one eye, then the other, and climbed into her lap. When grandmother came home, she laughed: the cat "
    "had never liked anyone so much. From then on, every Sunday, Nina read to the cat, and the red sofa "
    "became the warmest place in the house.\n\nThe End"
)


@dataclass(frozen=True)
class Recorded:
    headers: dict[str, str]  # names in lower case
    body: Any

    @property
    def has_image(self) -> bool:
        return any(
            isinstance(message.get("content"), list)
            and any(part.get("type") == "image_url" for part in message["content"])
            for message in self.body.get("messages", [])
        )


class FakeOpenAI(LoopbackFake):
    mode: Mode
    fenced: bool
    caption_json: dict[str, Any]
    caption_plain: str
    story: str

    def __init__(self, hang_s: float = 10.0) -> None:
        super().__init__(hang_s)
        self.requests: list[Recorded] = []
        self.reset()

    def reset(self) -> None:
        """Back to the default behaviour and answers, with no recorded requests (between tests)."""
        self.requests.clear()
        self.mode = "ok-json"
        self.fenced = False
        self.caption_json = {
            "caption": "A cat sleeping on a red sofa.",
            "subject": "a cat",
            "people": 0,
            "setting": "indoors",
        }
        self.caption_plain = "The image shows a Cat sleeping on a red sofa. It looks very comfortable."
        self.story = STORY

    def _content(self, recorded: Recorded) -> str:
        if self.mode == "empty":
            return ""
        if not recorded.has_image:
            return self.story
        if self.mode == "ok-plain":
            return self.caption_plain
        text = json.dumps(self.caption_json)
        return f"```json\n{text}\n```" if self.fenced else text

    async def _chat(self, request: web.Request) -> web.Response:
        recorded = Recorded({k.lower(): v for k, v in request.headers.items()}, await request.json())
        self.requests.append(recorded)
        if self.mode == "http-500":
            return web.json_response({"error": {"message": "model crashed"}}, status=500)
        if self.mode == "malformed":
            return web.json_response({"id": "chatcmpl-1", "object": "chat.completion", "choices": []})
        if self.mode == "garbage":
            return web.Response(text="<html>502 bad gateway</html>", content_type="text/html")
        if self.mode == "slow":
            await self.hang()
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": recorded.body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self._content(recorded)},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/chat/completions", self._chat)
