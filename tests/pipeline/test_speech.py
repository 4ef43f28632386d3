"""The voice stage: real offline voices (RHVoice, Piper, espeak-ng) and a tiny random VITS, end to end."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline import backends
from pipeline.backends import build_synthesizer
from pipeline.config import PipelineSettings
from pipeline.errors import SpeechTextError, StageError
from pipeline.events import Voice
from pipeline.logonce import WarnOnce
from pipeline.speech import opus
from pipeline.speech import synthesizers as speech
from pipeline.speech.narration import prepare_narration
from pipeline.speech.rhvoice import RHVoiceReaders, installed_profile
from pipeline.speech.synthesizers import (
    EspeakSynthesizer,
    PiperSynthesizer,
    RHVoiceSynthesizer,
    VitsSynthesizer,
    assemble,
    encode_opus,
)

from .test_narration import estimate_seconds


def rhvoice_installed() -> bool:
    try:
        installed_profile(PipelineSettings().rhvoice_library, PipelineSettings().rhvoice_voice)
    except (OSError, LookupError):
        return False
    return True


needs_rhvoice = pytest.mark.skipif(not rhvoice_installed(), reason="RHVoice (librhvoice5 + its voice) is not installed")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

STORY_PT = (
    "Era uma vez uma menina chamada Clara, que morava numa pequena vila perto das montanhas. "
    "Todas as manhãs, ela subia a colina para ver o sol nascer sobre o lago. "
    "Um dia, encontrou um velho barco escondido entre as árvores, com um nome pintado em letras azuis: "
    "Esperança. Clara limpou a madeira, costurou a vela rasgada e, com a ajuda do avô, levou o barco até "
    "a água. Naquela tarde, os dois navegaram até o outro lado do lago, onde os pássaros cantavam sem parar."
)
STORY_EN = (
    "Once upon a time, a girl named Clara lived in a small village near the mountains. "
    "Every morning she climbed the hill to watch the sun rise over the lake. "
    "One day she found an old boat hidden among the trees, with a name painted in blue letters: Hope. "
    "Clara cleaned the wood, sewed the torn sail and, with her grandfather's help, carried the boat to "
    "the water. That afternoon the two of them sailed to the other side of the lake, where birds sang."
)


def decode(voice: Voice) -> tuple[np.ndarray, int]:
    assert voice.ogg.startswith(b"OggS")
    assert b"OpusHead" in voice.ogg[:200]
    samples, rate = sf.read(io.BytesIO(voice.ogg), dtype="float32")
    assert samples.ndim == 1  # mono
    return samples, rate


def longest_silence(samples: np.ndarray, rate: int, db: float = -40.0) -> float:
    """Longest run of 10 ms frames quieter than `db` below the peak, in seconds."""
    hop = rate // 100
    frames = np.abs(samples[: len(samples) // hop * hop]).reshape(-1, hop).max(axis=1)
    quiet = frames < np.abs(samples).max() * 10 ** (db / 20)
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest / 100


def assert_plausible_narration(voice: Voice, text: str, synth: speech._Synthesizer) -> None:
    samples, rate = decode(voice)
    assert len(samples) / rate == pytest.approx(voice.seconds, abs=0.1)
    spoken = " ".join(prepare_narration(text, synth.language, synth.max_seconds, synth.words_per_minute))
    expected = estimate_seconds(spoken, synth.language, synth.words_per_minute)
    assert expected * 0.7 <= voice.seconds <= expected * 1.3
    assert longest_silence(samples, rate) < 1.5
    assert voice.language == synth.language and voice.backend == synth.name


@pytest.fixture(scope="module")
def rhvoice() -> RHVoiceSynthesizer:
    if not rhvoice_installed():
        pytest.skip("RHVoice is not installed")
    synth = RHVoiceSynthesizer("pt")
    synth.load()
    return synth


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    synth = PiperSynthesizer("en")
    synth.load()
    return synth


# --- Audio helpers ---------------------------------------------------------------------------------


def tone(seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.fixture(params=["libopus", "libsndfile"])
def encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run an encoding test with the system's libopus, then with the soundfile wheel's libsndfile (the fallback)."""
    if request.param == "libsndfile":
        monkeypatch.setattr(opus, "libopus", lambda: None)
    elif opus.libopus() is None:
        pytest.skip("libopus is not installed")
    return request.param


@pytest.mark.parametrize("rate", [24000, 22050, 16000, 44100])
def test_encode_opus_makes_a_decodable_ogg_opus(rate: int, encoder: str) -> None:
    ogg = encode_opus(tone(2.0, rate), rate)
    assert ogg.startswith(b"OggS") and b"OpusHead" in ogg[:200]
    samples, decoded_rate = sf.read(io.BytesIO(ogg), dtype="float32")
    assert len(samples) / decoded_rate == pytest.approx(2.0, abs=0.05)
    assert np.abs(samples).max() == pytest.approx(0.5, abs=0.05)


def test_encode_opus_bitrate_sets_the_size(encoder: str) -> None:
    audio = tone(4.0, 24000) + np.random.default_rng(0).normal(0, 0.05, 96000).astype(np.float32)
    small, large = encode_opus(audio, 24000, bitrate=16_000), encode_opus(audio, 24000, bitrate=64_000)
    assert len(small) * 2 < len(large)
    assert len(small) == pytest.approx(4.0 * 16_000 / 8, rel=0.25)


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 bit by bit, straight from RFC 3533 (independent of the encoder's table trick)."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def ogg_pages(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """(flags, granule position, sequence number, body) of each page, checking framing and CRC."""
    pages, at = [], 0
    while at < len(data):
        assert data[at : at + 5] == b"OggS\x00", f"no page at byte {at}"
        flags, granule, _serial, number, crc, segments = struct.unpack_from("<BqIIIB", data, at + 5)
        size = 27 + segments + sum(data[at + 27 : at + 27 + segments])
        page = data[at : at + size]
        assert ogg_crc(page[:22] + b"\0\0\0\0" + page[26:]) == crc
        pages.append((flags, granule, number, page[27 + segments :]))
        at += size
    return pages


@pytest.mark.skipif(opus.libopus() is None, reason="libopus is not installed")
def test_our_ogg_opus_is_well_formed_at_the_bitrate_and_rate_libsndfile_writes() -> None:
    audio = tone(6.0, 24000) * np.sin(np.linspace(0, 40, 6 * 24000)).astype(np.float32)  # a warbling tone
    ours = encode_opus(audio, 24000)
    pages = ogg_pages(ours)
    assert [number for _, _, number, _ in pages] == list(range(len(pages)))
    assert pages[0][0] == 0x02 and pages[-1][0] == 0x04 and all(flags == 0 for flags, *_ in pages[1:-1])
    version, channels, pre_skip, input_rate = struct.unpack_from("<BBHI", pages[0][3], 8)
    assert pages[0][3][:8] == b"OpusHead" and (version, channels, input_rate) == (1, 1, 24000)
    assert pages[1][3].startswith(b"OpusTags")
    assert pages[-1][1] - pre_skip == 6 * 48000  # the exact duration, at Opus's 48 kHz
    reference = speech._write_with_soundfile(audio, 24000, speech.DEFAULT_BITRATE)  # libsndfile, as before
    for ogg in (ours, reference):
        info = sf.info(io.BytesIO(ogg))
        assert (info.format, info.subtype, info.samplerate, info.channels) == ("OGG", "OPUS", 24000, 1)
        assert info.duration == pytest.approx(6.0, abs=0.001)
    assert len(ours) == pytest.approx(len(reference), rel=0.15)  # the same bitrate
    assert len(ours) * 8 / 6.0 == pytest.approx(speech.DEFAULT_BITRATE, rel=0.15)


def log_spectral_distance(reference: np.ndarray, decoded: np.ndarray, n: int = 512) -> float:
    """Mean over the audible frames of the RMS difference of the two power spectra, in dB."""

    def power(signal: np.ndarray) -> np.ndarray:
        frames = np.lib.stride_tricks.sliding_window_view(signal, n)[:: n // 2] * np.hanning(n)
        return np.abs(np.fft.rfft(frames, axis=1)) ** 2

    a, b = power(reference), power(decoded)
    audible = a.sum(axis=1) > 1e-4 * a.sum(axis=1).max()
    difference = 10 * np.log10((a[audible] + 1e-10) / (b[audible] + 1e-10))
    return float(np.mean(np.sqrt(np.mean(difference**2, axis=1))))


def snr_db(reference: np.ndarray, decoded: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - decoded) ** 2)))


@pytest.mark.processes  # RHVoice
@pytest.mark.skipif(opus.libopus() is None, reason="libopus is not installed")
def test_complexity_5_speech_is_as_close_to_the_original_as_libopus_default_at_half_the_cpu(
    rhvoice: RHVoiceSynthesizer,
) -> None:
    pieces, rate = rhvoice._render(prepare_narration(STORY_PT, "pt", rhvoice.max_seconds))
    samples = assemble(pieces, rate)
    measured = {}
    for complexity in (opus.COMPLEXITY, 10):  # 10: libopus's default, what libsndfile encoded with
        started = time.process_time()  # the process's: a long message is encoded on two threads
        ogg = opus.encode(samples, rate, speech.DEFAULT_BITRATE, complexity)
        cpu = time.process_time() - started
        decoded, decoded_rate = sf.read(io.BytesIO(ogg), dtype="float32")
        assert decoded_rate == rate and len(decoded) == len(samples)
        measured[complexity] = (cpu, snr_db(samples, decoded), log_spectral_distance(samples, decoded), len(ogg))
    print(f"\n{len(samples) / rate:.1f} s of speech: (cpu s, SNR dB, LSD dB, bytes) by complexity {measured}")
    (cpu, snr, lsd, size), (cpu_10, snr_10, lsd_10, size_10) = measured[opus.COMPLEXITY], measured[10]
    assert lsd <= lsd_10 + 0.3 and snr >= snr_10 - 1.0  # measured: 5.76 vs 5.73 dB, 14.9 vs 15.1 dB
    assert size == pytest.approx(size_10, rel=0.1)
    assert cpu < 0.75 * cpu_10  # measured: 0.36 vs 0.63 s for 50 s of speech


def test_long_sentences_are_read_clause_by_clause_and_short_ones_whole() -> None:
    short = list("ðə fˈɑːks, ɹˈæn.")
    assert speech.clauses(short, 100) == [short]
    long = list("wˌɛn spɹˈɪŋ kˈeɪm, ðə fˈɑːks wɛnt bˈæk; bˌʌt ˈɛvɹi mˈɔːɹnɪŋ ɪt kˈeɪm, sˌoʊ ðeɪ wˈɑːtʃt.")
    pieces = speech.clauses(long, 40)
    assert ["".join(piece) for piece in pieces] == [
        "wˌɛn spɹˈɪŋ kˈeɪm, ðə fˈɑːks wɛnt bˈæk;",
        "bˌʌt ˈɛvɹi mˈɔːɹnɪŋ ɪt kˈeɪm,",
        "sˌoʊ ðeɪ wˈɑːtʃt.",
    ]
    no_commas = list("ænd lˈiːnə nˈuː ðæt sˈʌmtaɪmz ɐ smˈɔːl ˈækt ʌv kˈaɪndnəs tʃˈeɪndʒᵻz ˈɛvɹɪθˌɪŋ.")
    assert speech.clauses(no_commas, 20) == [no_commas]


def test_encode_opus_rejects_empty_audio() -> None:
    with pytest.raises(ValueError, match="no audio"):
        encode_opus(np.zeros(0, dtype=np.float32), 24000)


def test_assemble_pauses_fades_shortens_silence_and_normalises() -> None:
    rate = 24000
    silence = np.zeros(3 * rate, dtype=np.float32)
    first = np.concatenate([silence, tone(1.0, rate, 0.2), silence, tone(1.0, rate, 0.2), silence])
    out = assemble([first, tone(0.5, rate, 0.1)], rate)
    assert np.abs(out).max() == pytest.approx(speech.PEAK, rel=1e-3)
    assert out[0] == 0 and out[-1] == 0 and abs(out[int(speech.EDGE_S * rate) + 1]) < 0.01  # faded in
    assert longest_silence(out, rate) <= speech.MAX_GAP_S + 0.02
    voiced = 2.5 + speech.PAUSE_S + speech.MAX_GAP_S + 2 * speech.EDGE_S
    assert len(out) / rate == pytest.approx(voiced, abs=0.05)


@pytest.mark.parametrize(
    ("sizes", "parts", "expected"),
    [
        ([350, 350, 100], 2, [[350], [350, 100]]),
        ([100, 100, 100, 100], 2, [[100, 100], [100, 100]]),
        ([300], 2, [[300]]),
        ([10, 10, 300], 2, [[10, 10], [300]]),
        ([50, 60, 70], 1, [[50, 60, 70]]),
    ],
)
def test_engine_processes_get_even_shares_in_order(sizes: list[int], parts: int, expected: list[list[int]]) -> None:
    chunks = ["x" * n for n in sizes]
    groups = speech._split_evenly(chunks, parts)
    assert [[len(c) for c in g] for g in groups] == expected


def test_assemble_of_silence_is_empty() -> None:
    assert assemble([np.zeros(1000, dtype=np.float32)], 16000).size == 0


# --- Real voices -----------------------------------------------------------------------------------


@pytest.mark.processes  # RHVoice
@needs_rhvoice
async def test_rhvoice_reads_a_portuguese_story(rhvoice: RHVoiceSynthesizer) -> None:
    voice = await rhvoice.synthesize(STORY_PT)
    assert_plausible_narration(voice, STORY_PT, rhvoice)


@pytest.mark.processes  # RHVoice
@needs_rhvoice
async def test_rhvoice_reads_accents_and_numbers(rhvoice: RHVoiceSynthesizer) -> None:
    text = "Em 1990, João viu 3 pássaros à beira do rio."
    voice = await rhvoice.synthesize(text)
    assert_plausible_narration(voice, text, rhvoice)


@pytest.mark.processes  # RHVoice
@needs_rhvoice
async def test_rhvoice_requests_read_at_once_sound_as_when_read_alone(rhvoice: RHVoiceSynthesizer) -> None:
    texts = ["Bom dia.", STORY_PT, "Três pássaros azuis cantavam no quintal da vovó.", STORY_PT[:200]]
    alone = [await rhvoice.synthesize(text) for text in texts]
    for _ in range(3):  # more requests than engines: engines are shared in turn, never at once
        together = await asyncio.gather(*(rhvoice.synthesize(text) for text in texts))
        assert [voice.ogg for voice in together] == [voice.ogg for voice in alone]
    assert alone[0].seconds * 5 < alone[1].seconds


@pytest.mark.processes  # RHVoice, 45 s of speech
@needs_rhvoice
async def test_a_50000_character_text_is_capped_at_voice_max_seconds() -> None:
    settings = PipelineSettings(voice_max_seconds=45)
    synth = build_synthesizer(settings, "pt")
    voice = await synth.synthesize((STORY_PT + "\n") * 100)
    assert 45 * 0.9 <= voice.seconds <= 45 * 1.1
    decode(voice)


@pytest.mark.models  # the Piper voice model
async def test_piper_reads_an_english_story(piper: PiperSynthesizer) -> None:
    voice = await piper.synthesize(STORY_EN)
    assert_plausible_narration(voice, STORY_EN, piper)


@pytest.mark.processes  # espeak-ng processes
@needs_espeak
@pytest.mark.parametrize(("language", "text"), [("pt", STORY_PT), ("en", STORY_EN)])
async def test_espeak_reads_both_languages(language: str, text: str) -> None:
    synth = EspeakSynthesizer(language)
    voice = await synth.synthesize(text)
    assert_plausible_narration(voice, text, synth)


@pytest.mark.parametrize("text", ["", "  ", "🌄🐦👍🏽☀️", "<b></b> **"])
async def test_nothing_speakable_raises_speech_text_error(text: str) -> None:
    piper = PiperSynthesizer("en")  # not loaded: the text is refused before the model is needed
    with pytest.raises(SpeechTextError):
        await piper.synthesize(text)
    assert not piper._loaded


@pytest.mark.processes  # espeak-ng processes
@needs_espeak
async def test_synthesis_runs_off_the_event_loop() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await EspeakSynthesizer("pt").synthesize(STORY_PT * 3)
    ticker.cancel()
    assert ticks > 0


# --- Failures and configuration --------------------------------------------------------------------


def test_a_missing_library_or_voice_fails_to_load() -> None:
    with pytest.raises(OSError):
        RHVoiceSynthesizer(library="/nonexistent/libRHVoice.so.5").load()
    if rhvoice_installed():
        with pytest.raises(LookupError, match="Nobody"):
            installed_profile(PipelineSettings().rhvoice_library, "Nobody")


def test_a_missing_program_fails_to_load() -> None:
    with pytest.raises(FileNotFoundError):
        EspeakSynthesizer("pt", command="/nonexistent/espeak-ng").load()


@pytest.mark.processes  # a (stand-in engine) process, killed after 0.5 s
async def test_a_hung_engine_is_killed_after_the_timeout(tmp_path: Path) -> None:
    program = tmp_path / "hangs"
    program.write_text("#!/bin/sh\nsleep 30\n")
    program.chmod(0o755)
    synth = EspeakSynthesizer("pt", command=str(program), timeout_s=0.5)
    synth._loaded = True  # skip the warm-up, which would hang too
    with pytest.raises(StageError, match="timed out"):
        await synth.synthesize("Olá.")


@pytest.mark.processes  # a (stand-in engine) process
async def test_a_failing_engine_raises_stage_error(tmp_path: Path) -> None:
    program = tmp_path / "fails"
    program.write_text("#!/bin/sh\necho broken voice >&2\nexit 3\n")
    program.chmod(0o755)
    synth = EspeakSynthesizer("pt", command=str(program))
    synth._loaded = True
    with pytest.raises(StageError, match="exited 3: broken voice"):
        await synth.synthesize("Olá.")


def test_defaults_pick_rhvoice_and_piper() -> None:
    settings = PipelineSettings()
    if rhvoice_installed():
        assert isinstance(build_synthesizer(settings, "pt"), RHVoiceSynthesizer)
    assert isinstance(build_synthesizer(settings, "en"), PiperSynthesizer)


def test_backends_are_chosen_by_configuration() -> None:
    settings = PipelineSettings(speech_backend_pt="transformers", speech_backend_en="espeak")
    vits = build_synthesizer(settings, "pt")
    assert isinstance(vits, VitsSynthesizer) and vits.model_id == "facebook/mms-tts-por"
    assert isinstance(build_synthesizer(settings, "en"), EspeakSynthesizer)


@pytest.mark.processes  # espeak-ng processes
@needs_espeak
async def test_missing_rhvoice_falls_back_to_espeak_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(backends, "_warnings", WarnOnce(backends.log))
    settings = PipelineSettings(rhvoice_library="/nonexistent/libRHVoice.so.5")
    with caplog.at_level(logging.WARNING, logger="pipeline.backends"):
        first, second = build_synthesizer(settings, "pt"), build_synthesizer(settings, "pt")
    assert isinstance(first, EspeakSynthesizer) and isinstance(second, EspeakSynthesizer)
    warnings = [r for r in caplog.records if "espeak" in r.getMessage()]
    assert len(warnings) == 1
    voice = await first.synthesize("Em 1990, João viu 3 pássaros.")
    assert voice.backend == "espeak" and voice.language == "pt"
    decode(voice)


# --- Tiny VITS (transformers) -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory: pytest.TempPathFactory) -> VitsSynthesizer:
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    vocab = {"<pad>": 0, "<unk>": 1, " ": 2}
    for char in "abcdefghijklmnopqrstuvwxyzáàâãéêíóôõúç'.,!?-":
        vocab.setdefault(char, len(vocab))
    vocab_file = tmp_path_factory.mktemp("vits") / "vocab.json"
    vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = VitsTokenizer(str(vocab_file), phonemize=False)
    config = VitsConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        ffn_dim=16,
        flow_size=16,
        spectrogram_bins=17,
        upsample_initial_channel=16,
        upsample_rates=[8, 8, 4],
        upsample_kernel_sizes=[16, 16, 8],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1]],
        duration_predictor_filter_channels=16,
        duration_predictor_num_flows=2,
        prior_encoder_num_flows=2,
        prior_encoder_num_wavenet_layers=2,
        posterior_encoder_num_wavenet_layers=2,
        depth_separable_num_layers=2,
        sampling_rate=16000,
    )
    torch.manual_seed(0)
    return VitsSynthesizer("pt", model=VitsModel(config), tokenizer=tokenizer, max_seconds=60)


@pytest.mark.models  # imports transformers (seconds), though the model is tiny
async def test_tiny_vits_synthesizes_chunk_by_chunk(tiny_vits: VitsSynthesizer) -> None:
    voice = await tiny_vits.synthesize(STORY_PT)
    samples, _ = decode(voice)
    assert voice.backend == "transformers" and voice.language == "pt"
    assert voice.seconds > 0.5 and np.abs(samples).max() > 0.1


def test_vits_needs_a_model_id_or_objects() -> None:
    with pytest.raises(ValueError, match="model id"):
        VitsSynthesizer("pt")


def test_rhvoice_takes_an_empty_buffer_and_goes_on() -> None:
    """A callback that raised would return 0, which stops the engine: an empty flush must not."""
    from ctypes import POINTER, c_short

    from pipeline.speech import rhvoice

    rhvoice._heard.clear()
    assert rhvoice._play_speech(POINTER(c_short)(), 0, None) == 1
    assert rhvoice._heard == []


@pytest.mark.processes  # RHVoice reader processes
@needs_rhvoice
def test_a_killed_rhvoice_reader_is_replaced_and_the_text_read_again() -> None:
    readers = RHVoiceReaders(PipelineSettings().rhvoice_library, "Leticia-F123", processes=1)
    try:
        before, rate = readers.speak("Bom dia, Clara.")
        (reader,) = list(readers._idle.queue)
        reader.process.kill()  # as a crash of the library would
        reader.process.wait()
        again, rate_again = readers.speak("Bom dia, Clara.")
        assert (again, rate_again) == (before, rate) and len(before) > rate  # the same voice, over half a second
        (replacement,) = list(readers._idle.queue)
        assert replacement is not reader and replacement.process.poll() is None
    finally:
        readers.close()


@pytest.mark.processes  # RHVoice reader processes
@needs_rhvoice
def test_a_reader_that_does_not_answer_in_time_is_stopped_and_replaced() -> None:
    readers = RHVoiceReaders(PipelineSettings().rhvoice_library, "Leticia-F123", processes=1)
    try:
        (slow,) = list(readers._idle.queue)
        slow.timeout_s = 0.05  # a long text takes far more: as if the engine hung
        samples, rate = readers.speak("Era uma vez uma menina chamada Clara. " * 20)
        assert len(samples) > 2 * 10 * rate  # read whole by the replacement: over 10 s of speech
        assert slow.process.poll() is not None  # the slow one was stopped
    finally:
        readers.close()


def bursts(seconds: float, rate: int = 24000) -> np.ndarray:
    """Half a second of two tones, then a quarter second of silence, over and over: sentences and their pauses."""
    t = np.arange(int(0.5 * rate)) / rate
    burst = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)
    unit = np.concatenate([burst, np.zeros(rate // 4, dtype=np.float32)])
    return np.tile(unit, int(seconds / 0.75) + 1)[: int(seconds * rate)]


def test_a_long_message_is_cut_in_a_silence_near_its_middle() -> None:
    samples, frame = bursts(30.0), 480
    cut = opus.silent_cut(samples, frame)
    assert cut is not None and cut % frame == 0 and abs(cut - len(samples) / 2) < 0.75 * 24000
    assert not samples[cut - 2 * frame : cut + 2 * frame].any()
    assert opus.silent_cut(bursts(5.0), frame) is None  # short: one encoder
    assert opus.silent_cut(bursts(30.0) + 0.01, frame) is None  # no silence: one encoder


@pytest.mark.skipif(opus.libopus() is None, reason="libopus is not installed")
def test_two_halves_encoded_at_once_decode_like_one_encoder() -> None:
    samples, rate = bursts(30.0), 24000
    lib = opus.libopus()
    packets, lookahead = opus._packets(lib, samples, rate, speech.DEFAULT_BITRATE, opus.COMPLEXITY)
    whole = opus._ogg(packets, lookahead, rate, len(samples) * 2)
    halves = opus.encode(samples, rate, speech.DEFAULT_BITRATE)
    decoded = {
        name: sf.read(io.BytesIO(ogg), dtype="float32")[0] for name, ogg in {"whole": whole, "halves": halves}.items()
    }
    assert len(decoded["whole"]) == len(decoded["halves"]) == len(samples)  # every sample in its place
    assert snr_db(samples, decoded["halves"]) >= snr_db(samples, decoded["whole"]) - 0.5
    assert len(halves) == pytest.approx(len(whole), rel=0.05)
    cut = opus.silent_cut(samples, 480)
    assert cut is not None and np.abs(decoded["halves"][cut - 480 : cut + 480]).max() < 0.01  # no click at the cut
