"""`python -m bench [--quick]`: measure, print the table, write bench/results.json."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import PipelineSettings
from pipeline.core import Pipeline
from pipeline.threads import cpu_executor

from .baseline import run_baseline
from .coldstart import cold_start_once
from .ours import EndToEnd, StageMeasurements, load_photos, measure_end_to_end, measure_stages, progress
from .quality import measure_quality, story_tier
from .report import evaluate_targets, render_table, write_results
from .scale import measure_scale
from .stats import median, ratio, summarize
from .system import interference, machine_cpu_seconds, machine_info, own_cpu_seconds, peak_rss_mb
from .through_bot import BotMeasurements, measure_bot, summarize_chats

REPO = Path(__file__).resolve().parent.parent
GALLERY_PICKS = ("peaks.jpg", "green-hills.jpg")  # a sharp small one and a large one, besides tests/data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 photos, 1 repeat, short baseline")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json", help="results file")
    parser.add_argument(
        "--seed",
        type=int,
        default=-1,
        help="story seed for reproducible stories (default -1: random, as in production)",
    )
    parser.add_argument("--chats", type=int, help="chats sending a photo at once (default 10; quick 3)")
    parser.add_argument("--skip-bot", action="store_true", help="skip the measurements through the bot")
    parser.add_argument("--skip-baseline", action="store_true", help="skip the original models")
    parser.add_argument("--skip-quality", action="store_true", help="skip the quality story tier's keys")
    parser.add_argument("--skip-scale", action="store_true", help="skip scale_two_workers_ratio (Redis workers)")
    return parser.parse_args(argv)


def photo_paths(quick: bool) -> list[Path]:
    paths = sorted((REPO / "tests" / "data").glob("*.jpg")) + [REPO / "assets" / "gallery" / n for n in GALLERY_PICKS]
    return paths[:2] if quick else paths


def story_summary(stages: StageMeasurements) -> dict[str, Any]:
    """Story length and speed: llama tokens when the backend is llama.cpp, else words."""
    story_seconds = sum(stages.samples["story"])
    tokens = [t.story_tokens for t in stages.texts if t.story_tokens is not None]
    if tokens and stages.generated_tokens:
        return {
            "unit": "tokens",
            "counted_with": "llama.cpp tokenizer of the loaded model",
            "tokens_median": median(tokens),
            "generated_tokens_median": median(stages.generated_tokens),
            "attempts": stages.attempts,
            "tokens_per_s": round(sum(stages.generated_tokens) / story_seconds, 1),
            "decode_tokens_per_s": round(sum(stages.generated_tokens) / sum(stages.llama_parts["token_eval"]), 1),
            "parts": {name: summarize(values) for name, values in stages.llama_parts.items()},
            "note": "tokens_per_s = every generated token (retries, dropped tails) / story stage time; "
            "decode_tokens_per_s counts only llama.cpp's one-token evals; parts are per story",
        }
    words = [len(t.story_en.split()) for t in stages.texts]
    return {"unit": "words", "tokens_median": median(words), "tokens_per_s": round(sum(words) / story_seconds, 1)}


def speech_summary(stages: StageMeasurements) -> dict[str, Any]:
    parts = stages.speech_parts
    out: dict[str, Any] = {}
    for language in ("pt", "en"):
        synth, audio = stages.samples[f"speech_{language}"], parts[f"audio_seconds_{language}"]
        out[f"rtf_{language}"] = round(sum(synth) / sum(audio), 4)
        out[f"audio_s_{language}"] = summarize(audio, 2)
    out["parts"] = {name: summarize(values) for name, values in parts.items() if not name.startswith("audio")}
    out["note"] = "rtf = synthesis seconds (whole stage, Opus included) / audio seconds"
    return out


def bot_summary(bot: BotMeasurements, chats: int) -> dict[str, Any]:
    answered = sum(1 for c in bot.concurrent if c.voice_sent is not None)
    wall = bot.concurrent_wall_s
    return {
        "single": {"photos": len(bot.single), **summarize_chats(bot.single)},
        "concurrent": {
            "chats": chats,
            "answered": answered,
            "wall_s": round(wall, 2) if wall else None,
            "photos_per_minute": round(answered / wall * 60, 2) if wall else None,
            "queue_running_slots": bot.running_slots,
            "longest_line": bot.longest_line,
            **summarize_chats(bot.concurrent),
        },
    }


def baseline_spec(args: argparse.Namespace, stages: StageMeasurements, story: dict[str, Any]) -> dict[str, Any]:
    """Inputs for the original models, taken from our own run: the story of median length, its length in
    tokens and the duration of its English narration."""
    texts = sorted(stages.texts, key=lambda t: len(t.story_en))
    typical = texts[len(texts) // 2]
    tokens = round(story["tokens_median"] if story["unit"] == "tokens" else story["tokens_median"] * 1.3)
    return {
        "photo": str(photo_paths(args.quick)[0]),
        "threads": 2,
        "seed": 0,
        "repeats": 1 if args.quick else 3,
        "blip_tokens": 20,
        "gpt2_tokens": tokens,
        "gpt2_measured_tokens": 12 if args.quick else tokens,
        "gpt2_prompt_tokens": 16,
        "text_chars": len(typical.story_en),
        "target_audio_s": typical.voice_seconds["en"],
        "vits_piece_s": 2.0 if args.quick else 12.0,
    }


def chat_count(args: argparse.Namespace) -> int:
    return args.chats or (3 if args.quick else 10)


def assemble(
    args: argparse.Namespace,
    run: OurRun,
    cold: list[dict[str, Any]],
    baseline: dict[str, Any] | None,
    extras: dict[str, Any],
) -> dict[str, Any]:
    """The results dict (schema in report.py) from every measurement."""
    stages, e2e, bot = run.stages, run.e2e, run.bot
    stage_summaries = {name: summarize(values) for name, values in stages.samples.items()}
    stage_summaries["end_to_end"] = summarize(e2e.total)
    ours_e2e = stage_summaries["end_to_end"]["median"]
    story = story_summary(stages)
    bot_info = bot_summary(bot, chat_count(args)) if bot else None
    single = (bot_info or {}).get("single") or {}

    def bot_median(key: str) -> float | None:
        return (single.get(key) or {}).get("median")

    baseline_e2e = None
    if baseline:
        translate = stage_summaries["translate_caption"]["median"] + stage_summaries["translate_story"]["median"]
        baseline_e2e = round(
            baseline["blip"]["seconds"] + baseline["gpt2"]["seconds"] + translate + baseline["vits"]["seconds"], 2
        )
        baseline["end_to_end_formula"] = "BLIP + GPT-2 + our two translations + VITS (whole story)"
        baseline["ours_over_baseline"] = {
            "caption": ratio(stage_summaries["caption"]["median"], baseline["blip"]["seconds"], 4),
            "story": ratio(stage_summaries["story"]["median"], baseline["gpt2"]["seconds"], 3),
            "speech_en": ratio(stage_summaries["speech_en"]["median"], baseline["vits"]["seconds"], 3),
            "end_to_end": ratio(ours_e2e, baseline_e2e, 3),
        }
    settings = run.pipeline.settings
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "end_to_end_s": ours_e2e,
        "baseline_end_to_end_s": baseline_e2e,
        "speedup": ratio(baseline_e2e, ours_e2e, 1),
        "caption_sent_s": bot_median("caption_sent"),
        "story_sent_s": bot_median("story_sent"),
        "voice_sent_s": bot_median("voice_sent"),
        "photos_per_minute": (bot_info or {}).get("concurrent", {}).get("photos_per_minute"),
        "caption_sent_concurrent_p90_s": ((bot_info or {}).get("concurrent", {}).get("caption_sent") or {}).get("p90"),
        "rss_both_voices_mb": cold[0].get("after_en_rss_mb") if cold else None,
        "peak_rss_mb": extras["peak_rss_mb"],
        "cold_start_s": round(median([c["ready_s"] for c in cold]), 2) if cold else None,
        "machine": machine_info(),
        "stages": stage_summaries,
        "baseline": baseline or {},
        "end_to_end": {
            "voice_language": "pt",
            "caption_ready": summarize(e2e.caption_ready),
            "story_ready": summarize(e2e.story_ready),
            "stage_timings_inside_run": {
                name: summarize([t[name] for t in e2e.stage_timings if name in t])
                for name in sorted({n for t in e2e.stage_timings for n in t})
            },
            "cpu_s_per_photo": summarize(e2e.cpu_seconds),
            "cpu_bound_photos_per_minute": round(60 * (os.cpu_count() or 1) / median(e2e.cpu_seconds), 1),
            "failures": e2e.failures,
            "note": "cpu_s: CPU time of this process and the speech programs during Pipeline.run; "
            "cpu_bound_photos_per_minute = cores × 60 / median cpu_s (the ceiling if nothing else ran)",
        },
        "story": story,
        "speech": speech_summary(stages),
        "bot": bot_info,
        "cold_start": {
            "runs_s": [round(c["ready_s"], 2) for c in cold],
            "import_s": round(statistics.median(c["import_s"] for c in cold), 2) if cold else None,
            "warm_up_s": round(statistics.median(c["warm_up_s"] for c in cold), 2) if cold else None,
            "first_request_s": round(cold[0]["first_request_s"], 2) if cold else None,
            "first_request_ok": cold[0]["first_request_ok"] if cold else None,
            "note": "first_request_s: the first photo (Portuguese voice) right after the first cold start",
        },
        "memory": {
            "bench_process_rss_mb": extras["peak_rss_mb"],
            "models_loaded_rss_mb": cold[0]["ready_rss_mb"] if cold else None,
            "cold_process_rss_mb": cold[0]["after_pt_rss_mb"] if cold else None,
            "cold_process_both_voices_rss_mb": cold[0]["after_en_rss_mb"] if cold else None,
            "bench_process_by_phase_mb": run.memory_by_phase,
            "note": "VmHWM. The bench process held every model, read stories in both languages and ran the "
            "bot (N chats at once); the fresh process loaded every model and read one photo in Portuguese. "
            "The RHVoice reader processes (the Portuguese voice) are counted with the process that started them",
        },
        "settings": {
            "caption_backend": settings.caption_backend,
            "story_backend": settings.story_backend,
            "translate_backend": settings.translate_backend,
            "speech_backend_pt": settings.speech_backend_pt,
            "speech_backend_en": settings.speech_backend_en,
            "torch_threads": settings.torch_threads,
            "llama_threads": settings.llama_threads,
            "story_max_tokens": settings.story_max_tokens,
            "story_seed": settings.story_seed,
            "model_threads": cpu_executor()._max_workers,
            "queue_running_slots": (bot_info or {}).get("concurrent", {}).get("queue_running_slots"),
        },
        "photos": [t.photo for t in stages.texts],
        "captions": {t.photo: t.caption_en for t in stages.texts},
        "warm_up_s": round(run.warm_up_s, 2),
        "load_average": extras["load_average"],
        "interference": extras["interference"],
        "bench_seconds": round(time.perf_counter() - extras["started"], 1),
    }
    results["targets"] = evaluate_targets(results)
    return results


@dataclass
class OurRun:
    pipeline: Pipeline
    warm_up_s: float
    stages: StageMeasurements
    e2e: EndToEnd
    bot: BotMeasurements | None
    memory_by_phase: dict[str, float]


async def measure_ours(args: argparse.Namespace) -> OurRun:
    """Everything measured in this process, in order: warm-up, stages, end to end, through the bot."""
    photos = load_photos(photo_paths(args.quick))
    seed = None if args.seed < 0 else args.seed
    pipeline = Pipeline(PipelineSettings(story_seed=seed, story_tier="light"))  # `speedup`: light vs the originals
    progress("loading models")
    warm_up_s = await pipeline.warm_up()
    memory = {"models_loaded": peak_rss_mb()}
    stages = await measure_stages(pipeline, photos, repeats=1 if args.quick else 3)
    memory["after_stages_both_voices"] = peak_rss_mb()
    e2e = await measure_end_to_end(pipeline, photos)
    memory["after_end_to_end"] = peak_rss_mb()
    bot = None
    if not args.skip_bot:
        bot = await measure_bot(pipeline.backends, photos, chat_count(args), story_seed=seed)
        memory["after_bot"] = peak_rss_mb()
    return OurRun(pipeline, warm_up_s, stages, e2e, bot, memory)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_start, machine_start, own_start = os.getloadavg(), machine_cpu_seconds(), own_cpu_seconds()
    if load_start[0] > (os.cpu_count() or 1) / 2:
        progress(f"warning: the machine is busy (load {load_start[0]:.1f}): timings will be noisy")
    run = asyncio.run(measure_ours(args))
    peak = peak_rss_mb()
    noise = interference(machine_start, machine_cpu_seconds(), own_cpu_seconds() - own_start)
    cold = []
    with story_tier("light"):
        for attempt in range(1 if args.quick else 3):
            progress(f"cold start {attempt + 1}")
            cold.append(cold_start_once(photo_paths(args.quick)[0] if attempt == 0 else None))
    quality = {}
    if not args.skip_quality:
        photos = load_photos(photo_paths(args.quick))
        seed = None if args.seed < 0 else args.seed
        quality = asyncio.run(measure_quality(photos, chat_count(args), seed, photo_paths(args.quick)[0]))
    scale = {}
    if not args.skip_scale:
        scale = asyncio.run(measure_scale(4 if args.quick else 8, "light"))
    baseline = None
    if not args.skip_baseline:
        progress("original models (BLIP, GPT-2, VITS; random weights, 2 torch threads, own process)")
        baseline = run_baseline(baseline_spec(args, run.stages, story_summary(run.stages)))
    extras = {
        "peak_rss_mb": peak,
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in os.getloadavg()]},
        "started": started,
        "interference": noise,
    }
    results = {**assemble(args, run, cold, baseline, extras), **quality, **scale}
    results["targets"] = evaluate_targets(results)
    write_results(args.out, results)
    print(render_table(results))
    print(f"\n{results['mode']} run, {results['bench_seconds']:.0f} s; details in {args.out}")
    if noise and noise["others_cores_avg"] > 0.2:
        print(
            f"Noisy machine: other processes used {noise['others_cores_avg']} of {os.cpu_count()} cores on "
            f"average while ours were measured ({noise['others_core_s']} core-seconds, ours "
            f"{noise['own_core_s']}): rerun on a quiet machine to compare."
        )
    unanswered = [c for c in (run.bot.concurrent if run.bot else []) if c.voice_sent is None]
    failures = run.e2e.failures + [f"bot: {c}" for c in unanswered] + quality.get("quality", {}).get("failures", [])
    if failures:
        print(f"failures: {failures}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
