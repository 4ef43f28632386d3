"""The results: targets, the results.json schema, and the table printed at the end (Markdown, so the
README can quote it as is). Pure functions of the results dict, tested without running the bench."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUIRED_KEYS = (
    "end_to_end_s",
    "baseline_end_to_end_s",
    "speedup",
    "caption_sent_s",
    "story_sent_s",
    "voice_sent_s",
    "photos_per_minute",
    "caption_sent_concurrent_p90_s",
    "rss_both_voices_mb",
    "peak_rss_mb",
    "cold_start_s",
    "machine",
    "stages",
    "baseline",
    "targets",
)
MACHINE_KEYS = ("cores", "cpu_model", "python")


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    key: str  # the top-level results key it reads
    limit: float
    at_most: bool  # True: met when value <= limit; False: when value >= limit

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.limit if self.at_most else value >= self.limit


TARGETS = (
    Target("photo_to_voice_warm", "photo → voice ≤ 5 s, warm (median)", "end_to_end_s", 5.0, True),
    Target("caption_sent", "caption sent ≤ 1 s after the photo (median, through the bot)", "caption_sent_s", 1.0, True),
    Target(
        "caption_sent_concurrent",
        "caption sent ≤ 1 s with 10 chats at once (p90, through the bot)",
        "caption_sent_concurrent_p90_s",
        1.0,
        True,
    ),
    Target("speedup", "≥ 10× faster than the original models, end to end", "speedup", 10.0, False),
    Target(
        "throughput",
        "≥ 12.8 photos/min with 10 chats at once (2 cores; 2026-11-28's)",
        "photos_per_minute",
        12.8,
        False,
    ),
    Target(
        "scale_two_workers",
        "≥ 1.7× the photos per minute with two workers on their own cores as with one (taskset, same run)",
        "scale_two_workers_ratio",
        1.7,
        False,
    ),
    Target(
        "rss_both_voices",
        "bot process ≤ 1 GB after both voices (peak RSS of a fresh process)",
        "rss_both_voices_mb",
        1024.0,
        True,
    ),
)


def evaluate_targets(results: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its limit, the measured value and whether it is met (None: not measured)."""
    return {
        t.name: {"target": t.description, "limit": t.limit, "value": value, "met": t.met(value)}
        for t in TARGETS
        for value in [results.get(t.key)]
    }


def validate_results(results: Mapping[str, Any]) -> list[str]:
    """What is missing or malformed in a results dict (empty list: it matches the schema)."""
    problems = [f"missing key: {key}" for key in REQUIRED_KEYS if key not in results]
    machine = results.get("machine")
    if isinstance(machine, Mapping):
        problems += [f"missing machine.{key}" for key in MACHINE_KEYS if key not in machine]
    elif "machine" in results:
        problems.append("machine is not a dict")
    numeric = [key for key in REQUIRED_KEYS if key.endswith(("_s", "_mb", "_minute")) or key == "speedup"]
    for key in numeric:
        value = results.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{key} is not a number: {value!r}")
    for name, summary in (results.get("stages") or {}).items():
        if not isinstance(summary, Mapping) or not {"median", "p90"} <= set(summary):
            problems.append(f"stages.{name} lacks median/p90")
    targets = results.get("targets")
    if isinstance(targets, Mapping):
        problems += [f"missing targets.{t.name}" for t in TARGETS if t.name not in targets]
    return problems


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """Write results.json, refusing a dict that does not match the schema (a bench bug, not a slow run)."""
    problems = validate_results(results)
    if problems:
        raise ValueError("results do not match the schema: " + "; ".join(problems))
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- the table -----------------------------------------------------------------------------------------

# (stage key, label, the baseline model it replaces)
STAGE_ROWS = (
    ("decode", "Image decode", None),
    ("caption", "Caption (EN)", "blip"),
    ("translate_caption", "Translate caption", None),
    ("story", "Story (EN)", "gpt2"),
    ("translate_story", "Translate story", None),
    ("speech_pt", "Speech pt (whole stage)", None),
    ("speech_en", "Speech en (whole stage)", "vits"),
    ("opus_encode", "Opus encoding (pt voice)", None),
    ("end_to_end", "Photo → voice, pt (Pipeline.run)", "end_to_end"),
)
BASELINE_NAMES = {"blip": "BLIP-base", "gpt2": "GPT-2 small", "vits": "VITS (LJSpeech size)", "end_to_end": "all"}


def fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value}{unit}"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return str(value)


def baseline_seconds(results: Mapping[str, Any], model: str) -> float | None:
    baseline = results.get("baseline") or {}
    if model == "end_to_end":
        return results.get("baseline_end_to_end_s")
    return (baseline.get(model) or {}).get("seconds")


def render_table(results: Mapping[str, Any]) -> str:
    """The whole report as Markdown: stages vs baseline, the bot, other figures, targets."""
    stages = results.get("stages") or {}
    lines = [
        "| Stage | Ours median (s) | Ours p90 (s) | Original model (s) | Speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label, model in STAGE_ROWS:
        summary = stages.get(key)
        if summary is None:
            continue
        base = baseline_seconds(results, model) if model else None
        speedup = base / summary["median"] if base and summary["median"] else None
        base_text = f"{fmt(base)} ({BASELINE_NAMES[model]})" if model and base is not None else "—"
        lines.append(
            f"| {label} | {fmt(summary['median'], digits=3)} | {fmt(summary['p90'], digits=3)} "
            f"| {base_text} | {fmt(speedup, '×', 1)} |"
        )

    bot = results.get("bot") or {}
    single, crowd = bot.get("single") or {}, bot.get("concurrent") or {}
    lines += [
        "",
        "| Through the bot (fake Bot API) | Median (s) | p90 (s) |",
        "|---|---:|---:|",
    ]
    for key, label in (("caption_sent", "caption sent"), ("story_sent", "story sent"), ("voice_sent", "voice sent")):
        summary = single.get(key) or {}
        lines.append(f"| {label}, one photo at a time | {fmt(summary.get('median'))} | {fmt(summary.get('p90'))} |")
    for key, label in (("caption_sent", "caption sent"), ("voice_sent", "voice sent")):
        summary = crowd.get(key) or {}
        lines.append(
            f"| {label}, {crowd.get('chats', '?')} chats at once | {fmt(summary.get('median'))} "
            f"| {fmt(summary.get('p90'))} |"
        )

    story, speech, cold = results.get("story") or {}, results.get("speech") or {}, results.get("cold_start") or {}
    memory, original = results.get("memory") or {}, results.get("baseline") or {}
    chats, unit = crowd.get("chats", "?"), story.get("unit", "tokens")
    figures = [
        (f"{chats} chats at once: answered", fmt(crowd.get("answered"))),
        (f"{chats} chats at once: wall time", fmt(crowd.get("wall_s"), " s", 1)),
        (f"Throughput, {chats} chats at once", fmt(results.get("photos_per_minute"), " photos/min", 1)),
        (f"Story speed ({unit} generated per second)", fmt(story.get("tokens_per_s"), f" {unit}/s", 0)),
        ("Story length, median", fmt(story.get("tokens_median"), f" {unit}", 0)),
        ("Speech real-time factor, pt", fmt(speech.get("rtf_pt"), digits=3)),
        ("Speech real-time factor, en", fmt(speech.get("rtf_en"), digits=3)),
        ("Cold start (process start → models loaded), median", fmt(results.get("cold_start_s"), " s")),
        ("First request after a cold start", fmt(cold.get("first_request_s"), " s")),
        ("Peak RSS, bench process (all models, after the bot runs)", fmt(results.get("peak_rss_mb"), " MB", 0)),
        ("RSS, fresh process with every model loaded", fmt(memory.get("models_loaded_rss_mb"), " MB", 0)),
        ("Peak RSS, fresh process after one photo (pt voice)", fmt(memory.get("cold_process_rss_mb"), " MB", 0)),
        ("Peak RSS, same process after the en voice too", fmt(memory.get("cold_process_both_voices_rss_mb"), " MB", 0)),
    ]
    figures += [
        (
            "Quality tier: first model-written pt sentence after the caption, p90",
            fmt(results.get("quality_first_sentence_p90_s"), " s"),
        ),
        ("Quality tier: photo → voice, median", fmt(results.get("quality_end_to_end_s"), " s")),
        (
            f"Quality tier: throughput, {chats} chats at once",
            fmt(results.get("quality_photos_per_minute"), " photos/min", 1),
        ),
        (
            "Quality tier: peak RSS, fresh process after both voices",
            fmt(results.get("quality_rss_both_voices_mb"), " MB", 0),
        ),
    ]
    if original.get("vits"):
        figures.append(("Original VITS real-time factor", fmt(original["vits"].get("rtf"))))
    if original.get("peak_rss_mb"):
        figures.append(("Peak RSS of the original models (one at a time)", fmt(original["peak_rss_mb"], " MB", 0)))
    lines += ["", "| Figure | Value |", "|---|---:|", *(f"| {label} | {value} |" for label, value in figures)]

    lines += ["", "| Target | Value | Met |", "|---|---:|:---:|"]
    for target in (results.get("targets") or {}).values():
        met = {True: "✅", False: "❌", None: "—"}[target["met"]]
        lines.append(f"| {target['target']} | {fmt(target['value'])} | {met} |")
    return "\n".join(lines)
