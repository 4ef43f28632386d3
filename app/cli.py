"""Command line: `python -m app PHOTO_PATH_OR_URL [--json] [--out DIR]` or `--random`.

Prints the Portuguese caption and story (or one JSON object with --json), writes `voice.ogg` and
`result.json` into --out, and shows a progress bar on stderr. `--kind` and `--length` choose the story
(as /estilo and /tamanho do in the bot), `--hint` and `--main-character` say who is in the photo and who its
hero is (as a photo's caption and /personagem do; names kept as written), `--tier` the story model; the JSON
says which models ran (`models`: caption, story, translation, speech). Exit codes: 0 ok, 1 a stage failed
(what could be made is still printed and written), 2 the input could not be used (a photo, or words that are
too long or unfit for children).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, get_args

from tqdm import tqdm

from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.errors import PipelineError
from pipeline.events import (
    Event,
    PipelineInput,
    PipelineResult,
    Stage,
    StageStarted,
    StoryKind,
    StoryLength,
    StoryOptions,
)
from pipeline.images import decode_image, read_source
from pipeline.names import MAX_WORDS_CHARS, words_problem

from .failures import failure
from .model_names import models_used
from .photos import Photo, build_photo_source

STEPS = {Stage.DECODE: "foto", Stage.CAPTION: "legenda", Stage.STORY: "história", Stage.SPEECH: "narração"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("photo", nargs="?", help="path or http(s) URL of a photo")
    source.add_argument("--random", action="store_true", help="a random landscape from the photo source")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--out", type=Path, help="directory for voice.ogg, result.json (and photo.jpg)")
    parser.add_argument("--voice", choices=["pt", "en"], help="narration language (default: VOICE_LANGUAGE)")
    parser.add_argument("--seed", type=int, help="story seed, for reproducible runs")
    parser.add_argument("--kind", choices=get_args(StoryKind), default="classic", help="kind of story (/estilo)")
    parser.add_argument("--length", choices=get_args(StoryLength), default="medium", help="story length (/tamanho)")
    parser.add_argument(
        "--hint",
        default="",
        metavar="TEXT",
        help='who/what is in the photo, where: names kept as written ("minha filha Iara em Gramado")',
    )
    parser.add_argument(
        "--main-character",
        default="",
        metavar="TEXT",
        help='the story\'s hero, as written ("Thor, nosso cachorro")',
    )
    parser.add_argument(
        "--tier", choices=["quality", "light"], help="story model: quality or light (default: STORY_TIER)"
    )
    return parser.parse_args(argv)


def settings_for(args: argparse.Namespace) -> PipelineSettings:
    """The pipeline settings, with the seed and the story tier the command line asks for."""
    overrides: dict[str, Any] = {}
    if args.seed is not None:
        overrides["story_seed"] = args.seed
    if args.tier is not None:
        overrides["story_tier"] = args.tier
    return PipelineSettings(**overrides)


class WordsRefused(Exception):
    """The user's words (--hint, --main-character) cannot go into a story; the message says why, in Portuguese."""


WORDS_OPTIONS = {"hint": "--hint", "main_character": "--main-character"}
WORDS_ADVICE = {"hint": "escreva só quem está na foto e onde", "main_character": "basta o nome e quem é"}


def story_options(args: argparse.Namespace) -> StoryOptions:
    """The kind and length of story the command line asks for, and the user's own words (trimmed, otherwise as
    written); raises WordsRefused when `words_problem` finds one of them too long or unfit for children."""
    words = {name: getattr(args, name).strip() for name in WORDS_OPTIONS}
    for name, text in words.items():
        match words_problem(text):
            case "too_long":
                raise WordsRefused(
                    f"{WORDS_OPTIONS[name]} pode ter até {MAX_WORDS_CHARS} caracteres (tem {len(text)}): "
                    f"{WORDS_ADVICE[name]}"
                )
            case "unsuitable":
                raise WordsRefused(
                    f"não posso usar as palavras de {WORDS_OPTIONS[name]}: as histórias são para crianças; "
                    "escreva de outro jeito"
                )
    return StoryOptions(kind=args.kind, length=args.length, **words)


async def pick_random_photo(settings: PipelineSettings) -> Photo:
    source = build_photo_source(settings)
    photo = await source.random_photo("cli")
    await source.mark_shown(photo)
    return photo


async def run_cli(args: argparse.Namespace) -> tuple[PipelineResult, dict[str, Any]]:
    settings = settings_for(args)
    options = story_options(args)  # refused words end the run before any photo is fetched
    extra: dict[str, Any] = {}
    source: bytes | str = args.photo
    if args.random:
        photo = await pick_random_photo(settings)
        source = photo.data if photo.data is not None else str(photo.url)
        extra["photo"] = photo.url or photo.ident
        extra["credit"] = photo.credit.line_pt()
        if args.out and photo.data is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "photo.jpg").write_bytes(photo.data)
            extra["photo"] = str(args.out / "photo.jpg")
    else:
        extra["photo"] = args.photo

    pipeline = Pipeline(settings)
    if isinstance(source, str):  # read and check the photo before spending seconds on loading models
        source = await read_source(source, max_bytes=settings.max_image_bytes, timeout_s=settings.fetch_timeout_s)
    decode_image(source, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)
    with tqdm(total=len(STEPS), file=sys.stderr, unit="etapa", leave=False) as bar:
        bar.set_description("carregando modelos")
        extra["load_models_s"] = round(await pipeline.warm_up(), 3)

        async def show(event: Event) -> None:
            if isinstance(event, StageStarted) and event.stage in STEPS:
                bar.n = list(STEPS).index(event.stage)
                bar.set_description(STEPS[event.stage])
                bar.refresh()

        result = await pipeline.run(PipelineInput(source, voice_language=args.voice, options=options), show)
        bar.n = len(STEPS)
        bar.refresh()
    extra["story_options"] = {
        "kind": options.kind,
        "length": options.length,
        "hint": options.hint,
        "main_character": options.main_character,
    }
    language = args.voice or settings.voice_language
    extra["models"] = models_used(pipeline.backends, settings, result.voice, language)
    return result, extra


def write_outputs(result: PipelineResult, extra: dict[str, Any], out: Path | None) -> dict[str, Any]:
    payload = {**result.to_dict(), **extra, "voice_path": None}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if result.voice is not None:
            voice_path = out / "voice.ogg"
            voice_path.write_bytes(result.voice.ogg)
            payload["voice_path"] = str(voice_path)
        (out / "result.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return payload


def print_human(payload: dict[str, Any]) -> None:
    lines = [f"📷 {payload['caption_pt']}", f"   ({payload['caption_en']})"]
    if payload.get("credit"):
        lines.append(f"   {payload['credit']}")
    if payload["story_pt"]:
        lines += ["", payload["story_pt"]]
    if payload.get("models"):
        lines += ["", f"🧠 {payload['models']['story']}"]
    if payload["voice_path"]:
        lines += ["", f"🎙️ {payload['voice_path']} ({payload['voice_seconds']} s)"]
    for stage, reason in payload["errors"].items():
        lines.append(f"⚠️ etapa {stage} falhou: {reason}")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        result, extra = asyncio.run(run_cli(args))
    except WordsRefused as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return 2
    except PipelineError as exc:  # said as the bot and the page say it, with the pipeline's own words after
        failed = failure(exc)
        print(f"erro: {failed.text(settings_for(args).max_image_bytes)} ({exc})", file=sys.stderr)
        return 2 if failed.photo_refused else 1
    payload = write_outputs(result, extra, args.out)
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print_human(payload)
    return 1 if result.errors else 0
