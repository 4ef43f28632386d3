"""RHVoice in this process, through its C library (`libRHVoice.so.5`, Debian's librhvoice5, LGPL-2.1+), by ctypes.

Why not the `RHVoice-test` program: every run loads the voice again, 0.2-0.4 s, more than it takes to read a
sentence; a story read sentence by sentence while it is written would pay that for every batch. Here each
engine loads the voice once, on its first message, and the audio is exactly the program's (same library).

The C API (RHVoice.h): an engine is made with callbacks, a message with the text and the voice's settings, and
`RHVoice_speak` calls `play_speech` with 16-bit samples as they are made. One engine reads one message at a
time: `RHVoiceLibrary` keeps a small pool, one engine per thread reading at once.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import queue
import unicodedata
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_short, c_uint, c_void_p
from typing import Any

import numpy as np

__all__ = ["RHVoiceLibrary", "fold"]

DATA_PATH = "/usr/share/RHVoice"  # where Debian's voice and language packages put their data
CONFIG_PATH = "/etc/RHVoice"

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


_MESSAGE_TEXT = 0

# What each message being read has received so far, by the key passed as the message's user data.
_heard: dict[int, list[np.ndarray]] = {}
_rates: dict[int, int] = {}
_keys = itertools.count(1)


@_SetSampleRate
def _set_sample_rate(rate: int, key: int) -> int:
    _rates[key] = rate
    return 1


@_PlaySpeech
def _play_speech(samples: Any, count: int, key: int) -> int:
    # RHVoice may flush an empty buffer (NULL, 0): reading it would raise, and a callback that raises returns
    # 0, which tells the engine to stop: the message would fail.
    if count and samples:
        _heard[key].append(np.ctypeslib.as_array(samples, (count,)).astype(np.float32) / 32768.0)
    return 1


def fold(name: str) -> str:
    """A voice name without accents or case: "Leticia-F123" finds the library's "Letícia-F123"."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


class RHVoiceLibrary:
    """The RHVoice library and `engines` engines; `speak` may be called from several threads at once (each call
    waits for an idle engine).

    The engines are made, and load their voice, one after the other here: never while another one reads.
    """

    def __init__(
        self,
        path: str = "libRHVoice.so.5",
        *,
        engines: int = 1,
        data_path: str = DATA_PATH,
        config_path: str = CONFIG_PATH,
    ) -> None:
        self._lib = _bind(path)  # OSError when the library is not installed
        self._params = _InitParams(
            data_path.encode(), config_path.encode(), None, _Callbacks(_set_sample_rate, _play_speech), 0
        )
        self._engines = [self._new_engine(data_path) for _ in range(max(1, engines))]
        self._idle: queue.Queue[int] = queue.Queue()
        for engine in self._engines:
            self._idle.put(engine)

    def version(self) -> str:
        return str(self._lib.RHVoice_get_version().decode())

    def profiles(self) -> list[str]:
        """The voice profiles the installed voices make up (e.g. "Letícia-F123")."""
        engine = self._engines[0]  # reading the list is safe while the engine speaks
        names = self._lib.RHVoice_get_voice_profiles(engine)
        return [names[i].decode() for i in range(self._lib.RHVoice_get_number_of_voice_profiles(engine))]

    def warm(self, profile: str) -> None:
        """Every engine loads `profile`'s voice now (on its first message), one engine at a time."""
        for engine in self._engines:
            self._speak_on(engine, "Olá.", profile)

    def speak(self, text: str, profile: str) -> tuple[np.ndarray, int]:
        """`text` read by `profile` (a name from `profiles`): float32 mono samples and their rate."""
        engine = self._idle.get()
        try:
            return self._speak_on(engine, text, profile)
        finally:
            self._idle.put(engine)

    def _speak_on(self, engine: int, text: str, profile: str) -> tuple[np.ndarray, int]:
        encoded = text.encode("utf-8")
        params = _SynthParams(profile.encode(), 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0, None, 0, 0)
        key = next(_keys)
        _heard[key] = []
        try:
            message = self._lib.RHVoice_new_message(
                engine, encoded, len(encoded), _MESSAGE_TEXT, ctypes.byref(params), c_void_p(key)
            )
            if not message:
                raise ValueError(f"RHVoice refused the message (voice profile {profile!r}?)")
            try:
                if not self._lib.RHVoice_speak(message):
                    raise RuntimeError("RHVoice could not read the message")
            finally:
                self._lib.RHVoice_delete_message(message)
            pieces, rate = _heard[key], _rates.get(key, 0)
            return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), rate
        finally:
            _heard.pop(key, None)
            _rates.pop(key, None)

    def _new_engine(self, data_path: str) -> int:
        """An engine (it lives as long as the process)."""
        engine = self._lib.RHVoice_new_tts_engine(ctypes.byref(self._params))
        if not engine:
            raise RuntimeError(f"RHVoice found no voices under {data_path}")
        return int(engine)


@functools.cache
def _bind(path: str) -> Any:
    lib = ctypes.CDLL(path)
    lib.RHVoice_get_version.restype = c_char_p
    lib.RHVoice_new_tts_engine.restype = c_void_p
    lib.RHVoice_new_tts_engine.argtypes = [POINTER(_InitParams)]
    lib.RHVoice_get_number_of_voice_profiles.argtypes = [c_void_p]
    lib.RHVoice_get_voice_profiles.restype = POINTER(c_char_p)
    lib.RHVoice_get_voice_profiles.argtypes = [c_void_p]
    lib.RHVoice_new_message.restype = c_void_p
    lib.RHVoice_new_message.argtypes = [c_void_p, c_char_p, c_uint, c_int, POINTER(_SynthParams), c_void_p]
    lib.RHVoice_speak.argtypes = [c_void_p]
    lib.RHVoice_delete_message.argtypes = [c_void_p]
    return lib
