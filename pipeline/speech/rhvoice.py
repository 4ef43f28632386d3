"""RHVoice read by long-lived reader processes that load the voice once, through its C library by ctypes.

The library is `libRHVoice.so.5` (Debian's librhvoice5, LGPL-2.1+); the audio is exactly the `RHVoice-test`
program's (same library), without loading the voice again for every story (0.2-0.4 s per run).

Why processes, not threads of the bot: read from the bot's own threads, the library failed 2 reads in about 300
stories, and the bot then died of a corrupted heap (a segfault). A reader process keeps such a crash to itself:
`RHVoiceReaders` starts a new one and reads the text again, once. A reader also dies with its parent (its
standard input closes), and runs at the background niceness of the story stages (`threads.lower_priority`).

The pipes carry frames: a request is a 4-byte little-endian length and the UTF-8 text; a reply is a 4-byte
status (the sample rate, or one of the `_FAILED`, `_NO_LIBRARY`, `_NO_VOICE` codes), a 4-byte length and that
many bytes: 16-bit mono samples, or the message of an error. The first reply, before any request, says
whether the reader is ready (status `_READY`, the voice's profile name).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import queue
import select
import subprocess
import sys
import time
import unicodedata
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_short, c_uint, c_void_p
from typing import IO, Any

__all__ = ["RHVoiceReaders", "ReaderDied", "fold", "installed_profile"]

log = logging.getLogger(__name__)

DATA_PATH = "/usr/share/RHVoice"  # where Debian's voice and language packages put their data
CONFIG_PATH = "/etc/RHVoice"
_FAILED, _READY, _NO_LIBRARY, _NO_VOICE = 0, 1, 2, 3

_SetSampleRate = CFUNCTYPE(c_int, c_int, c_void_p)
_PlaySpeech = CFUNCTYPE(c_int, POINTER(c_short), c_uint, c_void_p)


class _Callbacks(Structure):
    _fields_ = [
        ("set_sample_rate", _SetSampleRate),
        ("play_speech", _PlaySpeech),
        *((name, c_void_p) for name in ("process_mark", "word_starts", "word_ends", "sentence_starts")),
        *((name, c_void_p) for name in ("sentence_ends", "play_audio", "done")),
    ]


class _InitParams(Structure):
    _fields_ = [
        ("data_path", c_char_p),
        ("config_path", c_char_p),
        ("resource_paths", POINTER(c_char_p)),
        ("callbacks", _Callbacks),
        ("options", c_uint),
    ]


class _SynthParams(Structure):
    _fields_ = [
        ("voice_profile", c_char_p),
        *((name, c_double) for name in ("absolute_rate", "absolute_pitch", "absolute_volume")),
        *((name, c_double) for name in ("relative_rate", "relative_pitch", "relative_volume")),
        ("punctuation_mode", c_int),
        ("punctuation_list", c_char_p),
        ("capitals_mode", c_int),
        ("flags", c_int),
    ]


# What the message being read has given so far (a reader reads one message at a time).
_heard: list[bytes] = []
_rate = [0]


@_SetSampleRate
def _set_sample_rate(rate: int, _user_data: int) -> int:
    _rate[0] = rate
    return 1


@_PlaySpeech
def _play_speech(samples: Any, count: int, _user_data: int) -> int:
    # RHVoice may flush an empty buffer (NULL, 0): reading it would raise, and a callback that raises returns
    # 0, which tells the engine to stop: the message would fail.
    if count and samples:
        _heard.append(ctypes.string_at(samples, count * 2))
    return 1


def fold(name: str) -> str:
    """A voice name without accents or case: "Leticia-F123" finds the library's "Letícia-F123"."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


class _Engine:
    """One RHVoice engine (it loads the voice on its first message)."""

    def __init__(self, library: str) -> None:
        self._lib = _bind(library)  # OSError when the library is not installed
        self._params = _InitParams(
            DATA_PATH.encode(), CONFIG_PATH.encode(), None, _Callbacks(_set_sample_rate, _play_speech), 0
        )
        self._engine = self._lib.RHVoice_new_tts_engine(ctypes.byref(self._params))
        if not self._engine:
            raise LookupError(f"RHVoice found no voices under {DATA_PATH}")

    def profile(self, voice: str) -> str:
        """The profile name of `voice` (accents aside); LookupError if it is not installed."""
        names = self._lib.RHVoice_get_voice_profiles(self._engine)
        profiles = [names[i].decode() for i in range(self._lib.RHVoice_get_number_of_voice_profiles(self._engine))]
        found = next((name for name in profiles if fold(name) == fold(voice)), None)
        if found is None:
            raise LookupError(f"RHVoice voice {voice!r} is not installed (installed: {', '.join(profiles) or 'none'})")
        return found

    def close(self) -> None:
        self._lib.RHVoice_delete_tts_engine(self._engine)

    def speak(self, text: str, profile: str) -> tuple[bytes, int]:
        """`text` read by `profile`: 16-bit mono samples and their rate; RuntimeError if the library fails."""
        encoded = text.encode("utf-8")
        params = _SynthParams(profile.encode(), 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0, None, 0, 0)
        _heard.clear()
        message = self._lib.RHVoice_new_message(self._engine, encoded, len(encoded), 0, ctypes.byref(params), None)
        if not message:
            raise RuntimeError("RHVoice refused the message")
        try:
            if not self._lib.RHVoice_speak(message):
                raise RuntimeError("RHVoice could not read the message")
        finally:
            self._lib.RHVoice_delete_message(message)
        return b"".join(_heard), _rate[0]


def _bind(path: str) -> Any:
    lib = ctypes.CDLL(path)
    lib.RHVoice_new_tts_engine.restype = c_void_p
    lib.RHVoice_new_tts_engine.argtypes = [POINTER(_InitParams)]
    lib.RHVoice_delete_tts_engine.argtypes = [c_void_p]
    lib.RHVoice_get_number_of_voice_profiles.argtypes = [c_void_p]
    lib.RHVoice_get_voice_profiles.restype = POINTER(c_char_p)
    lib.RHVoice_get_voice_profiles.argtypes = [c_void_p]
    lib.RHVoice_new_message.restype = c_void_p
    lib.RHVoice_new_message.argtypes = [c_void_p, c_char_p, c_uint, c_int, POINTER(_SynthParams), c_void_p]
    lib.RHVoice_speak.argtypes = [c_void_p]
    lib.RHVoice_delete_message.argtypes = [c_void_p]
    return lib


def installed_profile(library: str, voice: str) -> str:
    """The profile name of `voice` if the library and the voice are installed (nothing is read: safe in the bot's
    process); OSError (no library) or LookupError (no voice) otherwise."""
    engine = _Engine(library)
    try:
        return engine.profile(voice)
    finally:
        engine.close()  # the library stays loaded (~23 MB, its static data); the engine goes


# --- the reader process --------------------------------------------------------------------------------------


def _send(stream: IO[bytes], status: int, body: bytes) -> None:
    stream.write(status.to_bytes(4, "little") + len(body).to_bytes(4, "little") + body)
    stream.flush()


def serve(library: str, voice: str, niceness: str) -> int:
    """The reader process: load the voice, say so, then read each text it is sent until its input closes."""
    with contextlib.suppress(OSError):
        os.nice(max(0, int(niceness) - os.nice(0)))
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    try:
        engine = _Engine(library)
        profile = engine.profile(voice)
        engine.speak("Olá.", profile)  # loads the voice now
    except OSError as exc:
        _send(replies, _NO_LIBRARY, str(exc).encode())
        return 2
    except (LookupError, RuntimeError) as exc:
        _send(replies, _NO_VOICE, str(exc).encode())
        return 2
    _send(replies, _READY, profile.encode())
    while len(header := requests.read(4)) == 4:
        text = requests.read(int.from_bytes(header, "little")).decode("utf-8")
        try:
            samples, rate = engine.speak(text, profile)
        except RuntimeError as exc:
            _send(replies, _FAILED, str(exc).encode())
        else:
            _send(replies, rate, samples)
    return 0


# --- the bot's side --------------------------------------------------------------------------------------------


class ReaderDied(RuntimeError):
    """The reader process exited (or took too long and was stopped) before replying."""


class _Reader:
    """One reader process and its pipes; one request at a time."""

    def __init__(self, library: str, voice: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        from pipeline.threads import BACKGROUND_NICENESS  # here: the reader itself runs without the package

        # This file run by itself, with the standard library only (-I -S: no site-packages, no package import):
        # a reader holds 45 MB, the voice's most (~70 MB with the pipeline package imported).
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, library, voice, str(BACKGROUND_NICENESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        status, body = self._reply()
        if status != _READY:
            self.stop()
            raise (OSError if status == _NO_LIBRARY else LookupError)(body.decode("utf-8", "replace"))
        self.profile = body.decode()

    def read(self, text: str) -> tuple[bytes, int]:
        data = text.encode("utf-8")
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(len(data).to_bytes(4, "little") + data)
            self.process.stdin.flush()
        except OSError as exc:  # a broken pipe: the reader is gone
            raise ReaderDied(str(exc)) from exc
        status, body = self._reply()
        if status == _FAILED:
            raise RuntimeError(body.decode("utf-8", "replace"))
        return body, status

    def _reply(self) -> tuple[int, bytes]:
        header = self._read_exactly(8)
        status, length = int.from_bytes(header[:4], "little"), int.from_bytes(header[4:], "little")
        return status, self._read_exactly(length)

    def _read_exactly(self, size: int) -> bytes:
        assert self.process.stdout is not None
        fd, deadline, chunks, left = self.process.stdout.fileno(), time.monotonic() + self.timeout_s, [], size
        while left:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(fd, min(left, 1 << 20)) if ready else b""
            if not chunk:
                self.stop()
                raise ReaderDied("exited" if ready else f"no reply within {self.timeout_s:g} s")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class RHVoiceReaders:
    """`processes` readers of one voice; `speak` may be called from several threads at once (each call waits for
    an idle reader). A reader that fails or dies is replaced, and its text read again by the new one, once."""

    def __init__(self, library: str, voice: str, *, processes: int = 1, timeout_s: float = 60.0) -> None:
        self._start = lambda: _Reader(library, voice, timeout_s)
        readers = [self._start() for _ in range(max(1, processes))]
        self.profile = readers[0].profile
        self._idle: queue.Queue[_Reader] = queue.Queue()
        for reader in readers:
            self._idle.put(reader)

    def speak(self, text: str) -> tuple[bytes, int]:
        """`text` read aloud: 16-bit mono samples and their rate. RuntimeError if it cannot be read."""
        reader = self._idle.get()
        try:
            return reader.read(text)
        except RuntimeError as exc:  # the reader failed or died: a fresh one reads the text again
            log.warning("RHVoice reader replaced", extra={"reason": str(exc)})
            reader.stop()
            reader = self._start()
            return reader.read(text)
        finally:
            self._idle.put(reader)

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().stop()


if __name__ == "__main__":
    sys.exit(serve(*sys.argv[1:4]))
