"""OGG/Opus through the distribution's libopus, called directly (cffi), with our own Ogg pages.

Why not libsndfile: it encodes at libopus's default complexity (10) and has no setting for it. Below
complexity 7 libopus skips its speech/music analysis and, unless told the signal is speech, codes everything in
CELT mode: 5.5x faster, but clearly worse for a voice (PESQ-WB 3.92 against 4.44 at complexity 10 on a 50 s
RHVoice story). Told it is speech, complexity 5 keeps the hybrid SILK+CELT mode that complexity 10 picks for
speech, at half the CPU time, and scores 4.39 (README "Desempenho"; tests/pipeline/test_speech.py checks the
decoded signal against the uncompressed one). The Ogg framing is RFC 7845: an identification header page, a
comment header page, then audio pages of up to a second of 20 ms packets; the last granule position trims the
encoder's padding, so players show the exact duration.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cffi  # type: ignore[import-untyped]  # cffi ships no types
import numpy as np

SAMPLE_RATES = (8000, 12000, 16000, 24000, 48000)  # what libopus takes
COMPLEXITY = 5  # 0..10; 10 is libopus's (and libsndfile's) default
FRAME_S = 0.02  # 20 ms packets, as libsndfile writes them
PACKETS_PER_PAGE = 50  # about a second of audio per Ogg page
MAX_PACKET = 4000  # bytes: libopus's recommended output buffer
SPLIT_MIN_FRAMES = 500  # messages of 10 s or more are encoded in two halves at once (`encode`)
SILENCE = 1e-4  # a sample this quiet is silence, where a message may be cut in two for encoding
VENDOR = b"conta-historias"

_APPLICATION_AUDIO = 2049
_SET_BITRATE = 4002
_SET_COMPLEXITY = 4010
_GET_LOOKAHEAD = 4027
_SET_SIGNAL = 4024
_SIGNAL_VOICE = 3001

_ffi = cffi.FFI()
_ffi.cdef(
    """
    typedef struct OpusEncoder OpusEncoder;
    OpusEncoder *opus_encoder_create(int32_t Fs, int channels, int application, int *error);
    int opus_encoder_ctl(OpusEncoder *st, int request, ...);
    int32_t opus_encode_float(OpusEncoder *st, const float *pcm, int frame_size, unsigned char *data,
                              int32_t max_data_bytes);
    void opus_encoder_destroy(OpusEncoder *st);
    const char *opus_strerror(int error);
    """
)


class OpusError(RuntimeError):
    """libopus refused a setting or a frame."""


@functools.cache
def libopus() -> Any | None:
    """The distribution's libopus (None if it is not installed)."""
    try:
        return _ffi.dlopen("libopus.so.0")
    except OSError:
        return None


def encode(samples: np.ndarray, sample_rate: int, bitrate: int, complexity: int = COMPLEXITY) -> bytes:
    """float32 mono speech at one of `SAMPLE_RATES` → OGG/Opus bytes at `bitrate` (VBR, as libsndfile).

    A long message is encoded in two halves at once, cut in a silence (`silent_cut`), one encoder each: the
    halves' packets follow each other in one stream. The second encoder's first packets carry its lookahead of
    silence where the first one's last lookahead (silence too) is left out, so every sample keeps its place;
    the decoder's state at the cut is silence either way. On 2 idle cores: half the time.
    """
    lib = libopus()
    if lib is None:
        raise OpusError("libopus is not installed")
    frame = int(sample_rate * FRAME_S)
    cut = silent_cut(samples, frame)
    if cut is None:
        packets, lookahead = _packets(lib, samples, sample_rate, bitrate, complexity)
    else:
        with ThreadPoolExecutor(2, thread_name_prefix="opus") as pool:  # libopus runs without the GIL (cffi)
            first = pool.submit(_packets, lib, samples[:cut], sample_rate, bitrate, complexity, pad=False)
            second = pool.submit(_packets, lib, samples[cut:], sample_rate, bitrate, complexity)
            (head, lookahead), (tail, _) = first.result(), second.result()
        packets = head + tail
    return _ogg(packets, lookahead, sample_rate, len(samples) * (48000 // sample_rate))


def silent_cut(samples: np.ndarray, frame: int, min_frames: int = SPLIT_MIN_FRAMES) -> int | None:
    """A frame boundary near the middle with two silent frames on each side, or None (short or no silence).

    Silent: all four frames at most `SILENCE` (the pauses `speech.assemble` puts between sentences are zeros).
    """
    frames = len(samples) // frame
    if frames < min_frames:
        return None
    loudness = np.abs(samples[: frames * frame]).reshape(frames, frame).max(axis=1)
    quiet = loudness <= SILENCE
    around = quiet[:-3] & quiet[1:-2] & quiet[2:-1] & quiet[3:]  # frames k-2 .. k+1 for the cut k = index + 2
    candidates = np.flatnonzero(around) + 2
    if not candidates.size:
        return None
    best = int(candidates[np.argmin(np.abs(candidates - frames / 2))])
    return best * frame if frames / 4 <= best <= 3 * frames / 4 else None


def _packets(
    lib: Any, samples: np.ndarray, rate: int, bitrate: int, complexity: int, *, pad: bool = True
) -> tuple[list[bytes], int]:
    """The Opus packets of the signal (padded past the lookahead unless `pad` is false), and the encoder's
    lookahead (pre-skip) in 48 kHz samples."""
    error = _ffi.new("int *")
    encoder = lib.opus_encoder_create(rate, 1, _APPLICATION_AUDIO, error)
    if error[0] != 0:
        raise OpusError(_ffi.string(lib.opus_strerror(error[0])).decode())
    try:
        for request, value in ((_SET_BITRATE, bitrate), (_SET_COMPLEXITY, complexity), (_SET_SIGNAL, _SIGNAL_VOICE)):
            _check(lib, lib.opus_encoder_ctl(encoder, request, _ffi.cast("int32_t", value)))
        lookahead = _ffi.new("int32_t *")
        _check(lib, lib.opus_encoder_ctl(encoder, _GET_LOOKAHEAD, lookahead))
        frame = int(rate * FRAME_S)
        # Pad with silence past the lookahead, so the last real sample comes out of the decoder too.
        padded = len(samples) + (lookahead[0] * rate // 48000 if pad else 0)
        pcm = np.zeros(-(-padded // frame) * frame, dtype=np.float32)
        pcm[: len(samples)] = samples
        out = _ffi.new("unsigned char[]", MAX_PACKET)
        packets = []
        for start in range(0, len(pcm), frame):
            size = lib.opus_encode_float(encoder, _ffi.from_buffer("float[]", pcm[start:]), frame, out, MAX_PACKET)
            _check(lib, size)
            packets.append(bytes(_ffi.buffer(out, size)))
        return packets, lookahead[0] * 48000 // rate
    finally:
        lib.opus_encoder_destroy(encoder)


def _check(lib: Any, code: int) -> None:
    if code < 0:
        raise OpusError(_ffi.string(lib.opus_strerror(code)).decode())


def _ogg(packets: list[bytes], pre_skip: int, input_rate: int, length: int) -> bytes:
    """The Ogg stream: the two headers, then the audio pages; `length` is the signal's length at 48 kHz."""
    serial = zlib.crc32(b"".join(packets[:4])) & 0x7FFFFFFF
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, input_rate, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", len(VENDOR)) + VENDOR + struct.pack("<I", 0)
    pages = [_page(serial, 0, [head], 0, 0x02), _page(serial, 1, [tags], 0, 0)]
    per_packet, done = round(48000 * FRAME_S), 0
    groups = list(_groups(packets))
    for number, group in enumerate(groups, start=2):
        done += len(group)
        last = number == len(groups) + 1
        granule = pre_skip + length if last else done * per_packet
        pages.append(_page(serial, number, group, granule, 0x04 if last else 0))
    return b"".join(pages)


def _groups(packets: list[bytes]) -> Iterator[list[bytes]]:
    """The packets, page by page: up to `PACKETS_PER_PAGE`, within a page's 255 lacing values."""
    group: list[bytes] = []
    lacing = 0
    for packet in packets:
        needed = len(packet) // 255 + 1
        if group and (len(group) == PACKETS_PER_PAGE or lacing + needed > 255):
            yield group
            group, lacing = [], 0
        group.append(packet)
        lacing += needed
    if group:
        yield group


def _page(serial: int, number: int, packets: list[bytes], granule: int, flags: int) -> bytes:
    """One Ogg page holding whole packets."""
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, serial, number, 0, len(lacing)) + lacing
    page = header + b"".join(packets)
    return page[:22] + struct.pack("<I", _crc(page)) + page[26:]


_REVERSED = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def _crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, no final xor), computed by zlib in C: zlib's CRC is
    the same polynomial reflected, so it runs on bit-reversed bytes and its result is reversed back."""
    reflected = ~zlib.crc32(data.translate(_REVERSED), 0xFFFFFFFF) & 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)
