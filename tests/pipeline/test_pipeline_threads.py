"""The llama.cpp thread pacer: every core while that is faster, one thread when the cores are busy."""

from __future__ import annotations

from pipeline.threads import ThreadPacer


def generate(seconds_per_token: dict[int, float], tokens: int, begin_every: int = 0) -> tuple[list[int], list[int]]:
    """Run a pacer over `tokens` fake tokens whose time depends on the thread count; the counts used, and the
    counts it applied."""
    clock = [0.0]
    applied: list[int] = []
    pacer = ThreadPacer(applied.append, most=2, clock=lambda: clock[0])
    used = []
    for token in range(tokens):
        if begin_every and token % begin_every == 0:
            pacer.begin()
            clock[0] += 5.0  # the prompt's evaluation: not a token time
        clock[0] += seconds_per_token[pacer.threads]
        used.append(pacer.threads)
        pacer.tick()
    return used, applied


def test_a_quiet_machine_keeps_every_core_and_only_probes_one_thread_now_and_then() -> None:
    used, _ = generate({2: 0.011, 1: 0.015}, 600)
    assert used.count(1) < 0.05 * len(used)
    assert used[-1] == 2


def test_busy_cores_move_generation_to_one_thread_and_probe_less_often() -> None:
    used, applied = generate({2: 0.150, 1: 0.020}, 600)
    assert used[:30] == [2] * 30 and used[35:60] == [1] * 25  # the first probe finds one thread faster
    assert used[100:].count(2) < 0.05 * len(used[100:])
    assert applied[:1] == [1]


def test_the_choice_carries_over_to_the_next_story_and_prompts_are_not_timed() -> None:
    used, _ = generate({2: 0.150, 1: 0.020}, 400, begin_every=100)
    assert used[100] == 1 and used[300:].count(2) < 10


def test_a_single_thread_setting_is_left_alone() -> None:
    applied: list[int] = []
    pacer = ThreadPacer(applied.append, most=1)
    for _ in range(100):
        pacer.tick()
    assert pacer.threads == 1 and applied == []
