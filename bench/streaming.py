"""`python -m bench.streaming`: the story as it is written, with the real offline models, photo by photo.

Each photo goes through `Pipeline.stream` both ways, alternately (ABBA, the same story seed): as built (the
llama writer hands over each sentence, translated while the next one is written; the Portuguese story is made
of those translations) and as before (the sentences hidden from the pipeline: the story is translated whole
once written). Reported per way: CaptionReady → first StorySentence (our opening sentence, shown before the
model starts) and → the second (the first one the model wrote), CaptionReady → StoryReady, StoryReady →
VoiceReady (the most that narrating sentence by sentence could save) and photo → voice; the difference in
photo → voice run by run (robust to the machine's drift); and how busy the rest of the machine was meanwhile,
since other processes slow everything on 2 cores. LLAMA_THREADS=1 in the environment runs the story model on
one core.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any, cast, get_args

from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.events import (
    CaptionReady,
    PipelineInput,
    StoryKind,
    StoryLength,
    StoryOptions,
    StoryReady,
    StorySentence,
    VoiceReady,
)
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink, StoryWriter

from .stats import summarize
from .system import interference, machine_cpu_seconds, own_cpu_seconds

EVERYDAY = Path(__file__).resolve().parent.parent / "tests" / "data" / "everyday"
PHOTOS = ("kitten.jpg", "lighthouse.jpg", "three-friends.jpg", "pizza.jpg", "bicycle.jpg", "horses.jpg")


@dataclasses.dataclass
class WholeStory:
    """The writer with its sentences hidden: the pipeline gets the story whole, as before streaming."""

    writer: StoryWriter
    name: str = "whole"

    def load(self) -> None:
        self.writer.load()

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        return await self.writer.write(facts, options)


async def one_photo(pipeline: Pipeline, photo: bytes, options: StoryOptions) -> dict[str, float]:
    """Seconds from the start of the run to the first event of each kind, and to the second sentence (the first
    the model wrote, after ours)."""
    started = time.perf_counter()
    seen: dict[str, float] = {}
    sentences = 0
    async for event in pipeline.stream(PipelineInput(photo, options=options)):
        seen.setdefault(type(event).__name__, time.perf_counter() - started)
        sentences += isinstance(event, StorySentence)
        if sentences == 2:
            seen.setdefault("model_sentence", time.perf_counter() - started)
    return seen


def spans(seen: dict[str, float]) -> dict[str, float]:
    """The measured spans of one run (a missing event leaves its span out)."""
    caption, story = seen[CaptionReady.__name__], seen.get(StoryReady.__name__, float("nan"))
    out = {
        "caption_to_story": story - caption,
        "story_to_voice": seen.get(VoiceReady.__name__, float("nan")) - story,
        "photo_to_voice": seen.get(VoiceReady.__name__, float("nan")),
    }
    if StorySentence.__name__ in seen:
        out["caption_to_first_sentence"] = seen[StorySentence.__name__] - caption
        out["caption_to_model_sentence"] = seen.get("model_sentence", float("nan")) - caption
    return out


async def measure(photos: list[Path], repeats: int, seed: int, options: StoryOptions) -> dict[str, Any]:
    """Both ways on every photo, `repeats` times, alternating which goes first."""
    streaming = Pipeline(PipelineSettings(story_seed=seed))
    await streaming.warm_up()
    whole_writer = WholeStory(streaming.backends.story_writer)
    ways = {
        "sentences": streaming,
        "whole": Pipeline(streaming.settings, dataclasses.replace(streaming.backends, story_writer=whole_writer)),
    }
    await one_photo(streaming, photos[0].read_bytes(), options)  # llama.cpp's prompt cache, the voices' first call
    samples: dict[str, dict[str, list[float]]] = {way: {} for way in ways}
    machine, own = machine_cpu_seconds(), own_cpu_seconds()
    for repeat in range(repeats):
        for index, path in enumerate(photos):
            order = list(ways) if (repeat + index) % 2 == 0 else list(reversed(ways))
            for way in order:
                for span, seconds in spans(await one_photo(ways[way], path.read_bytes(), options)).items():
                    samples[way].setdefault(span, []).append(seconds)
            print(f"  {path.name} ({repeat + 1}/{repeats}) done", flush=True)
    return {
        "options": dataclasses.asdict(options),
        "photos": [path.name for path in photos],
        "repeats": repeats,
        "ways": {way: {span: summarize(values) for span, values in got.items()} for way, got in samples.items()},
        # Run by run (the same photo, one right after the other): what streaming adds to photo → voice.
        "sentences_minus_whole": summarize(
            [a - b for a, b in zip(*(samples[way]["photo_to_voice"] for way in ways), strict=True)]
        ),
        "interference": interference(machine, machine_cpu_seconds(), own_cpu_seconds() - own),
    }


SPANS = (
    "caption_to_first_sentence",
    "caption_to_model_sentence",
    "caption_to_story",
    "story_to_voice",
    "photo_to_voice",
)


def table(results: dict[str, Any]) -> str:
    """The medians (and p90) of each span, one line per way."""
    lines = [f"{'way':10}" + "".join(f"{span:>28}" for span in SPANS) + "   (median / p90, seconds)"]
    for way, got in results["ways"].items():
        cells = [f"{got[span]['median']:.2f} / {got[span]['p90']:.2f}" if span in got else "-" for span in SPANS]
        lines.append(f"{way:10}" + "".join(f"{cell:>28}" for cell in cells))
    paired = results["sentences_minus_whole"]
    lines.append(
        f"photo → voice, sentences minus whole, run by run: {paired['median']:+.2f} s (p90 {paired['p90']:+.2f})"
    )
    others = (results["interference"] or {}).get("others_cores_avg", "?")
    lines.append(f"other processes used {others} of the cores on average meanwhile")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.streaming", description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=len(PHOTOS), help=f"how many of {', '.join(PHOTOS)}")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7, help="story seed: both ways write the same story")
    parser.add_argument("--kind", default="classic", choices=get_args(StoryKind))
    parser.add_argument("--length", default="medium", choices=get_args(StoryLength))
    parser.add_argument("--out", type=Path, help="also write the results here (JSON)")
    args = parser.parse_args(argv)
    options = StoryOptions(cast("StoryKind", args.kind), cast("StoryLength", args.length))
    results = asyncio.run(
        measure([EVERYDAY / name for name in PHOTOS[: args.photos]], args.repeats, args.seed, options)
    )
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
