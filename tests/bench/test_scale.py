"""bench/scale.py: two pinned workers against one, through the queue the bot uses (light stand-in models here:
the figure itself comes from `make bench`)."""

from __future__ import annotations

import pytest

from bench.scale import can_measure, measure_scale

pytestmark = pytest.mark.processes


async def test_both_runs_voice_every_photo_and_give_a_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    if (reason := can_measure()) is not None:
        pytest.skip(reason)
    monkeypatch.setenv("CONTA_WORKER_BACKENDS", "tools.fake_backends:fake_backends")  # the workers' models
    result = await measure_scale(3, "light")
    scale = result["scale"]
    assert scale["one_worker"]["voiced"] == scale["two_workers"]["voiced"] == 3
    expected = round(scale["two_workers"]["per_minute"] / scale["one_worker"]["per_minute"], 1)
    assert round(result["scale_two_workers_ratio"], 1) == pytest.approx(expected, abs=0.1)
