"""The benchmark's pure helpers (statistics, targets, results schema, table, timing seams) — fast; the
bench itself (`python -m bench`) is run by hand or by `make bench`, never by the test suite."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest

from bench.instrument import record_calls
from bench.report import TARGETS, evaluate_targets, render_table, validate_results, write_results
from bench.stats import percentile, ratio, summarize
from bench.through_bot import chat_times
from tools.fake_telegram import Call


def test_percentile_interpolates_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 90) == pytest.approx(4.6)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert percentile([7.0], 90) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summarize_and_ratio() -> None:
    assert summarize([1.0, 2.0, 3.0, 10.0]) == {"n": 4, "median": 2.5, "p90": 7.9, "min": 1.0, "max": 10.0}
    assert ratio(10.0, 4.0) == 2.5
    assert ratio(None, 4.0) is None and ratio(1.0, 0.0) is None


def sample_results(**changes: Any) -> dict[str, Any]:
    results: dict[str, Any] = {
        "end_to_end_s": 4.0,
        "baseline_end_to_end_s": 60.0,
        "speedup": 15.0,
        "caption_sent_s": 1.5,
        "story_sent_s": 3.0,
        "voice_sent_s": 4.5,
        "photos_per_minute": None,  # not measured (--skip-bot)
        "caption_sent_concurrent_p90_s": 0.8,
        "rss_both_voices_mb": 990.0,
        "peak_rss_mb": 1200.0,  # the bench process: reported, not a target
        "cold_start_s": 3.0,
        "machine": {"cores": 2, "cpu_model": "test cpu", "python": "3.11.7"},
        "stages": {"caption": {"median": 0.1, "p90": 0.2}, "end_to_end": {"median": 4.0, "p90": 5.0}},
        "baseline": {"blip": {"seconds": 4.2}},
    }
    results.update(changes)
    results["targets"] = evaluate_targets(results)
    return results


def test_targets_are_judged_in_the_right_direction() -> None:
    targets = sample_results()["targets"]
    assert set(targets) == {t.name for t in TARGETS}
    assert targets["photo_to_voice_warm"]["met"] is True  # 4.0 <= 5
    assert targets["caption_sent"]["met"] is False  # 1.5 > 1
    assert targets["caption_sent_concurrent"]["met"] is True  # 0.8 <= 1
    assert targets["speedup"]["met"] is True  # 15 >= 10
    assert targets["throughput"]["met"] is None  # not measured
    assert targets["rss_both_voices"]["met"] is True  # 990 <= 1024
    assert sample_results(speedup=9.9)["targets"]["speedup"]["met"] is False
    assert sample_results(rss_both_voices_mb=1105.0)["targets"]["rss_both_voices"]["met"] is False


def test_results_schema_is_checked_before_writing(tmp_path: Path) -> None:
    good = sample_results()
    assert validate_results(good) == []
    out = tmp_path / "results.json"
    write_results(out, good)
    assert json.loads(out.read_text(encoding="utf-8"))["speedup"] == 15.0

    broken = {k: v for k, v in good.items() if k not in ("cold_start_s", "rss_both_voices_mb")}
    broken["machine"] = {"cores": 2}
    broken["stages"] = {"story": {"median": 1.0}}
    broken["speedup"] = "fast"
    problems = validate_results(broken)
    assert {"missing key: cold_start_s", "missing key: rss_both_voices_mb"} <= set(problems)
    assert {"missing machine.cpu_model", "missing machine.python"} <= set(problems)
    assert "stages.story lacks median/p90" in problems
    assert any(p.startswith("speedup is not a number") for p in problems)
    with pytest.raises(ValueError, match="cold_start_s"):
        write_results(tmp_path / "bad.json", broken)


def test_table_shows_stages_baseline_and_targets() -> None:
    table = render_table(sample_results())
    caption_row = next(line for line in table.splitlines() if line.startswith("| Caption"))
    assert "4.20 (BLIP-base)" in caption_row and "42.0×" in caption_row  # 4.2 s / 0.1 s
    assert "| photo → voice ≤ 5 s, warm (median) | 4.00 | ✅ |" in table
    assert "| caption sent ≤ 1 s after the photo (median, through the bot) | 1.50 | ❌ |" in table
    assert "Story (EN)" not in table  # a stage that was not measured gets no row


def test_chat_times_picks_each_reply_relative_to_the_update() -> None:
    def call(method: str, at: float, text: str = "", status: int = 200) -> Call:
        return Call(method, {"chat_id": 1, "text": text}, {}, at, status)

    calls = [
        call("sendMessage", 10.2, "⏳ Baixando a foto…"),
        call("sendMessage", 10.4, "📷 <b>um lago</b>", status=400),  # refused: not delivered
        call("sendMessage", 10.5, "📷 <b>um lago</b>"),
        call("sendMessage", 13.0, "📖 <b>A história</b>\n\nEra uma vez"),
        call("sendVoice", 15.0),
    ]
    times = chat_times(calls, queued_at=10.0)
    assert times.first_reply == pytest.approx(0.2)
    assert times.caption_sent == pytest.approx(0.5)
    assert times.story_sent == pytest.approx(3.0)
    assert times.voice_sent == pytest.approx(5.0)
    assert chat_times(calls[:1], queued_at=10.0).voice_sent is None


def test_record_calls_times_the_real_function_and_restores_it() -> None:
    module = types.SimpleNamespace(double=lambda values: [2 * v for v in values])
    original = module.double
    with record_calls(module, "double", describe=len) as calls:
        assert module.double([1, 2, 3]) == [2, 4, 6]
        assert module.double([5]) == [10]
    assert [c.detail for c in calls] == [3, 1] and all(c.seconds >= 0 for c in calls)
    assert module.double is original

    class Model:
        def generate(self) -> str:
            return "story"

    model = Model()
    with record_calls(model, "generate") as calls:
        assert model.generate() == "story"
    assert len(calls) == 1 and "generate" not in vars(model)  # the class method is visible again
