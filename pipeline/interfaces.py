"""What each stage's backend must do: the protocols the pipeline core talks to (`backends.py` builds them).

Every backend has a name and a `load()` that warms its model once; each stage adds its one method. The pipeline
never asks which implementation it holds, so choosing one is configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL import Image

    from pipeline.events import StoryOptions, Voice
    from pipeline.facts import PhotoFacts

__all__ = ["Backend", "Captioner", "SentenceSink", "StoryWriter", "Translator", "VoiceSynthesizer"]

SentenceSink = Callable[[str], None]


class Backend(Protocol):
    name: str  # in logs and metrics: "classifier", "llama", "offline", "rhvoice", ...

    def load(self) -> None:
        """Load the model now (blocking; called once from a thread at start-up, or lazily on first use)."""
        ...


class Captioner(Backend, Protocol):
    async def caption(self, image: Image.Image) -> PhotoFacts:
        """An RGB, upright image → what is in it (the sentence is lower case, no final full stop)."""
        ...


class StoryWriter(Backend, Protocol):
    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """The photo's facts → a short English story of the asked kind and length (whole sentences, no title).

        A writer that streams calls `on_sentence` (from any thread) with each sentence of the story, or line of
        a poem, in order, as soon as it is complete; the story returned is made of them. Others never call it."""
        ...


class Translator(Backend, Protocol):
    async def translate(self, text: str) -> str:
        """`text` in the other language, with the same line structure."""
        ...


class VoiceSynthesizer(Backend, Protocol):
    language: str

    async def synthesize(self, text: str) -> Voice:
        """Read `text` aloud; raises SpeechTextError when nothing speakable is left."""
        ...
