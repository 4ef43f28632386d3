"""A vision model on an OpenAI-compatible server describes the photo (`caption_backend=openai`).

The photo (at most 1024 px on its long side, JPEG) goes as a data URL, and the model is asked for a JSON object
of facts; the answer is read leniently (fenced JSON, or plain text as the caption). `openai_captioner` wraps it
with the offline captioner as the fallback (`openai_chat.WithFallback`).
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

from PIL import Image

from pipeline.config import PipelineSettings
from pipeline.errors import OpenAIAnswerError
from pipeline.facts import PhotoFacts
from pipeline.interfaces import Captioner
from pipeline.openai_chat import ChatCompletions, WithFallback
from pipeline.text import split_sentences
from pipeline.threads import run_cpu

MAX_IMAGE_SIDE = 1024  # vision models resize to ~336-1024 px anyway; bigger only costs upload time
JPEG_QUALITY = 85
CAPTION_MAX_TOKENS = 200

CAPTION_PROMPT = (
    "Look at this photo. Answer with one JSON object and nothing else, with these keys:\n"
    '"caption": one short English sentence in lower case describing the photo, without a final full stop;\n'
    '"subject": the main subject with its article, such as "a cat", "two people" or "a kitchen";\n'
    '"people": the number of people visible (0 if none);\n'
    '"setting": "indoors", "outdoors", or null if you cannot tell.'
)


def jpeg_data_url(image: Image.Image, max_side: int = MAX_IMAGE_SIDE) -> str:
    """The image as `data:image/jpeg;base64,...`, shrunk to at most `max_side` px on its long side."""
    small = image.convert("RGB")  # a copy: thumbnail() below works in place
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
# "The image shows a cat" → "a cat": chat models like to announce what they describe.
_ANNOUNCEMENT = re.compile(
    r"^(?:in )?(?:the|this) (?:image|photo|photograph|picture),?\s+(?:shows|depicts|features|contains|captures)\s+",
    re.IGNORECASE,
)
_QUOTES = " \"'“”‘’`"


def _lower_first(text: str) -> str:
    """Lower-case the first letter, unless the first word is an acronym ("TV", "UFO")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def normalise_caption(text: str) -> str:
    """One line, one sentence, lower-case first letter, no final full stop ("" when nothing is left)."""
    text = " ".join(text.split()).strip(_QUOTES)
    text = _ANNOUNCEMENT.sub("", text, count=1)
    sentences = split_sentences(text)
    first = sentences[0] if sentences else ""
    return _lower_first(first.strip(_QUOTES).rstrip(" .").strip(_QUOTES))


def _people(value: Any) -> int:
    """A people count as PhotoFacts keeps it: 0, 1, 2, or 3 for three or more; unreadable → 0."""
    if isinstance(value, bool):
        return 0
    try:
        count = int(float(value))
    except (TypeError, ValueError):
        return 0
    return max(0, min(count, 3))


def _facts_from_json(data: dict[str, Any]) -> PhotoFacts:
    caption = data.get("caption")
    caption = normalise_caption(caption) if isinstance(caption, str) else ""
    if not caption:
        raise OpenAIAnswerError("the JSON answer has no caption")
    subject = data.get("subject")
    subject = (normalise_caption(subject) or None) if isinstance(subject, str) else None
    setting = data.get("setting")
    setting = setting.strip().lower() if isinstance(setting, str) else None
    return PhotoFacts(
        caption=caption,
        subject=subject,
        people=_people(data.get("people")),
        setting="indoors" if setting == "indoors" else "outdoors" if setting == "outdoors" else None,
    )


def parse_caption_answer(text: str) -> PhotoFacts:
    """A vision model's answer → facts: a JSON object (possibly in ```json fences or among other words),
    or plain text, whose first sentence becomes the caption. Broken JSON raises (a ValueError)."""
    fenced = _FENCE.search(text)
    body = (fenced.group(1) if fenced else text).strip()
    start, end = body.find("{"), body.rfind("}")
    if start != -1:
        if end < start:
            raise OpenAIAnswerError("unfinished JSON answer (max_tokens too low?)")
        data = json.loads(body[start : end + 1])
        if not isinstance(data, dict):
            raise OpenAIAnswerError("the JSON answer is not an object")
        return _facts_from_json(data)
    caption = normalise_caption(body)
    if not caption:
        raise OpenAIAnswerError("empty caption")
    return PhotoFacts(caption)


class OpenAICaptioner:
    """A vision chat model describes the photo; see `parse_caption_answer` for how its answer is read."""

    name = "openai"

    def __init__(self, settings: PipelineSettings, chat: ChatCompletions | None = None) -> None:
        self.model = settings.openai_caption_model
        self.chat = chat or ChatCompletions(settings)

    def load(self) -> None:
        """Nothing to load here: the model lives on the server (which is not contacted now)."""

    async def caption(self, image: Image.Image) -> PhotoFacts:
        url = await run_cpu(jpeg_data_url, image)
        content: list[dict[str, Any]] = [
            {"type": "text", "text": CAPTION_PROMPT},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        messages = [{"role": "user", "content": content}]
        answer = await self.chat.complete(self.model, messages, temperature=0.0, max_tokens=CAPTION_MAX_TOKENS)
        return parse_caption_answer(answer)


class CaptionerWithFallback(WithFallback):
    """`OpenAICaptioner`, or `offline` (the classifier by default) when the server fails."""

    def __init__(self, online: OpenAICaptioner, offline: Captioner) -> None:
        super().__init__("caption", online.model, online.chat, offline)
        self.online = online
        self.offline = offline

    async def caption(self, image: Image.Image) -> PhotoFacts:
        return await self._first_that_works(
            lambda: self.online.caption(image), lambda: self.offline.caption(image), lambda facts: bool(facts.caption)
        )


def openai_captioner(settings: PipelineSettings, offline: Captioner) -> CaptionerWithFallback:
    """caption_backend=openai: the server's vision model, with `offline` (the classifier) as the fallback."""
    return CaptionerWithFallback(OpenAICaptioner(settings), offline)
