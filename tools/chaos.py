"""Chaos run (issue 14): the real bot, as a process, SIGKILLed and restarted while photos stream in through a
fake Bot API that answers some calls with 429 or 500 and drops some connections.

    python -m tools.chaos                   # 50 photos from 20 chats, 5 SIGKILLs, real offline models
    python -m tools.chaos --small           # the CI version: 8 photos, 2 SIGKILLs (~3-5 min)
    python -m tools.chaos --scale           # 2 webhook replicas behind a balancer, PostgreSQL, Redis, 2 workers
    python -m tools.chaos --json out.json   # the report as JSON too (with every photo's outcome)

This process owns the fake Bot API (tools/fake_telegram.py) on 127.0.0.1, on a port fixed for the whole run so
the bot reconnects after each restart, and starts `bot.py` as a subprocess in its own session: a SIGKILL takes
the bot and its children (RHVoice...) at once, as an out-of-memory kill or a container restart would. DATA_DIR
is a temporary folder kept across restarts. The bot runs with its working directory in that folder and with
every variable of its settings removed from the environment, so neither a developer's `.env` (pydantic-settings
reads it from the working directory) nor their shell can change the run.

Each user sends one request at a time (a photo, sometimes /aleatorio): the next one in the same chat once the
previous one got its voice; from a new chat after an apology or after `--patience` seconds without an answer.
So a chat never has two requests that may both still get parts, and every message is attributed to the right
request (`classify`). At most 6 requests wait at once: this measures crashes, not overload (tools.loadtest
does). At the end, with the bot alive until nothing happened for 20 s (bounded), each request is: answered
fully (caption 📷, story 📖 and voice each delivered; a story still being written does not count, nor a deleted
message), answered with an apology (a failure text of handlers/texts.py), or unanswered; a part delivered more
than once counts as a part sent twice. The calls and requests stay in the run folder with --keep.

--scale is the topology of several machines, as processes on this one (issue 26): two bot replicas in webhook
mode behind a round-robin balancer (tools/balancer.py), one PostgreSQL store (tools/postgres.py), redis-server
and two pipeline workers. Each replica has its own REPLICA_ID, DATA_DIR, media server and ports; a killed
replica stays down longer than its lease (REPLICA_LEASE_S), so the other one takes its requests over before it
comes back. Workers are SIGKILLed too, and Redis is killed and restarted (its queue lost).

The exit code is 0 when issue 14's targets are met, 1 when they are not, 2 when the run itself could not be
made (the bot never started, for instance).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from handlers import texts
from handlers.config import BotSettings

from .balancer import Balancer
from .fake_telegram import DEFAULT_TOKEN, FAULT_KINDS, Call, FakeTelegram, RandomFaults
from .postgres import postgres_server

ROOT = Path(__file__).resolve().parent.parent
PHOTO_DIRS = (ROOT / "tools" / "data", ROOT / "tests" / "data" / "everyday")
FIRST_CHAT = 5001

# Issue 14's targets.
MAX_UNANSWERED = 0
MAX_PARTS_TWICE = 0
MIN_FULL_RATIO = 0.95
MAX_BEYOND_QUEUE_S = 120.0

PARTS = ("caption", "story", "voice")


def _prefix(template: str) -> str:
    """The fixed start of a text template (up to its first placeholder)."""
    return template.split("{", 1)[0]


# Failure answers: a request that got one of these (and not its three parts) was answered with an apology.
APOLOGIES: dict[str, str] = {
    "RESUME_APOLOGY": texts.RESUME_APOLOGY,
    "PIPELINE_FAILED": texts.PIPELINE_FAILED,
    "DOWNLOAD_FAILED": texts.DOWNLOAD_FAILED,
    "BUSY": texts.BUSY,
    "USER_LIMIT": texts.USER_LIMIT,
    "SHUTTING_DOWN": texts.SHUTTING_DOWN,
    "STAGE_FAILED.story": texts.STAGE_FAILED["story"],
    "STAGE_FAILED.speech": texts.STAGE_FAILED["speech"],
    "ERROR": _prefix(texts.ERROR),
    **{f"INVALID_IMAGE.{k}": _prefix(v) for k, v in texts.INVALID_IMAGE.items()},
}
QUEUED_STATUS = _prefix(texts.STATUS_QUEUED)
WORK_STATUSES = tuple(texts.STATUS.values())
STATUS_TEXTS = (QUEUED_STATUS, *WORK_STATUSES)
DRAFT_MARK = " ✍️"  # the end of a story message still being written (handlers/draft.py, WRITING_MARK)


# --- classifying what the bot sent -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One request a user sent: a photo (`name` is its file) or /aleatorio, at `time` (time.monotonic())."""

    chat_id: int
    kind: str  # "photo" | "aleatorio"
    time: float
    name: str = ""


@dataclass
class Outcome:
    """What one request got, from the bot messages of its chat after it and before the chat's next request."""

    sent: Sent
    parts: Counter[str] = field(default_factory=Counter)  # caption, story, voice (and landscape for /aleatorio)
    apologies: list[str] = field(default_factory=list)  # APOLOGIES keys, in order
    resumed: bool = False  # the bot said it restarted and goes on (texts.RESUMED)
    statuses: list[tuple[float, bool]] = field(default_factory=list)  # (time, shows work) of each status shown
    drafts_left: int = 0  # story messages left unfinished ("… ✍️") in the chat
    claimed: set[str] = field(default_factory=set)  # parts sent for it so far (while classifying)
    closed_at: float | None = None  # when an apology that ends a request (any but ERROR) came
    first: dict[str, float] = field(default_factory=dict)  # when each part, and the first apology, arrived

    @property
    def verdict(self) -> str:
        if all(self.parts[p] for p in PARTS):
            return "full"
        return "apology" if self.apologies else "unanswered"

    @property
    def parts_twice(self) -> int:
        """Parts delivered more than once for this request (each extra delivery counts)."""
        return sum(max(0, n - 1) for n in self.parts.values())

    @property
    def answered_at(self) -> float | None:
        """When the user had the whole answer: its three parts, or its apology (and the parts before it)."""
        verdict = self.verdict
        if verdict == "unanswered":
            return None
        keys = PARTS if verdict == "full" else [k for k in (*PARTS, "apology") if k in self.first]
        return max(self.first[k] for k in keys)

    @property
    def wait_s(self) -> float | None:
        answered = self.answered_at
        return None if answered is None else answered - self.sent.time

    def queue_s(self, until: float) -> float:
        """Time in line up to `until`, as the user saw it: until the status shows work on the photo
        ("📥 Recebendo a foto…" and the next stages), and again whenever it goes back to "⏳ Na fila" (a restart
        that puts it back in line). A status left showing work while the bot is down is not time in line."""
        in_line, since, total = True, self.sent.time, 0.0
        for at, work in self.statuses:
            if at >= until:
                break
            if in_line:
                total += at - since
            in_line, since = not work, at
        return total + (until - since if in_line else 0.0)

    @property
    def beyond_queue_s(self) -> float | None:
        """The wait beyond the time in line (`queue_s`)."""
        answered = self.answered_at
        return None if answered is None else answered - self.sent.time - self.queue_s(answered)

    def to_json(self) -> dict[str, Any]:
        wait, beyond, answered = self.wait_s, self.beyond_queue_s, self.answered_at
        return {
            "chat_id": self.sent.chat_id,
            "kind": self.sent.kind,
            "photo": self.sent.name,
            "verdict": self.verdict,
            "parts": dict(self.parts),
            "apologies": self.apologies,
            "resumed": self.resumed,
            "drafts_left": self.drafts_left,
            "wait_s": None if wait is None else round(wait, 2),
            "queue_s": None if answered is None else round(self.queue_s(answered), 2),
            "beyond_queue_s": None if beyond is None else round(beyond, 2),
        }


def part_kind(method: str, text: str) -> str | None:
    """Which part of an answer a sent message is: caption, story, voice, landscape (/aleatorio's photo), or None."""
    if method == "sendVoice":
        return "voice"
    if method == "sendPhoto":
        return "landscape"
    if method == "sendMessage" and text.startswith("📷"):
        return "caption"
    if method == "sendMessage" and text.startswith("📖"):
        return "story"
    return None


def apology_of(text: str) -> str | None:
    """The APOLOGIES key of a failure text, or None."""
    return next((name for name, start in APOLOGIES.items() if text.startswith(start)), None)


def finished(kind: str | None, text: str) -> bool:
    """A story message still being written (a draft ending in DRAFT_MARK) is not the story yet."""
    return kind != "story" or not text.rstrip().endswith(DRAFT_MARK.strip())


@dataclass
class _Shown:
    """A message the bot sent, followed through its edits and deletion."""

    owner: Outcome
    kind: str | None
    text: str
    finished_at: float | None = None
    deleted: bool = False

    def show(self, text: str, at: float) -> None:
        self.text = text
        if text.startswith(STATUS_TEXTS):
            self.owner.statuses.append((at, not text.startswith(QUEUED_STATUS)))
        if self.kind is not None and self.finished_at is None and finished(self.kind, text):
            self.finished_at = at


def owner_of_part(kind: str, requests: Sequence[Outcome], at: float) -> Outcome:
    """The request a part sent at `at` answers, among its chat's requests sent before it: the earliest one
    still waiting for that part (not ended by an apology), else the latest one (the part is then sent twice)."""
    candidates = [r for r in requests if r.sent.kind == "aleatorio"] if kind == "landscape" else list(requests)
    for request in candidates:
        if kind not in request.claimed and (request.closed_at is None or request.closed_at > at):
            return request
    return (candidates or list(requests))[-1]


def classify(sent: Sequence[Sent], calls: Iterable[Call]) -> list[Outcome]:
    """One Outcome per request, from the successful calls to its chat.

    Parts go, in reply order, to the earliest request of the chat still waiting for that part (a request the bot
    kept working on after a generic ERROR apology still gets its parts); other messages (apologies, statuses,
    notes) to the chat's latest request before them, and the later edits and deletion of a message follow it.
    A part counts when its message is there at the end: sent (a story: finished, not a draft still being
    written) and not deleted. The runner's chats send a request only once the previous one was answered (a
    voice or an apology), so requests of one chat rarely overlap and the attribution is then exact.
    """
    outcomes = [Outcome(s) for s in sent]
    by_chat: dict[int | str, list[Outcome]] = {}
    for outcome in sorted(outcomes, key=lambda o: o.sent.time):
        by_chat.setdefault(outcome.sent.chat_id, []).append(outcome)
    starts = {chat: [o.sent.time for o in items] for chat, items in by_chat.items()}
    shown: list[_Shown] = []
    by_id: dict[tuple[int | str, int], _Shown] = {}
    for call in sorted((c for c in calls if c.ok and c.chat_id in by_chat), key=lambda c: c.time):
        chat, text = call.chat_id, str(call.params.get("text") or "")
        assert chat is not None
        if call.method in ("editMessageText", "deleteMessage"):
            with contextlib.suppress(KeyError, TypeError, ValueError):
                item = by_id[(chat, int(call.params["message_id"]))]
                if call.method == "deleteMessage":
                    item.deleted = True
                else:
                    item.show(text, call.time)
            continue
        index = bisect.bisect_right(starts[chat], call.time) - 1
        if index < 0 or call.method not in ("sendMessage", "sendVoice", "sendPhoto"):
            continue
        latest = by_chat[chat][index]
        kind = part_kind(call.method, text)
        owner = latest if kind is None else owner_of_part(kind, by_chat[chat][: index + 1], call.time)
        if kind is not None:
            owner.claimed.add(kind)
        item = _Shown(owner, kind, "")
        item.show(text, call.time)
        shown.append(item)
        if isinstance(call.result, dict) and "message_id" in call.result:
            by_id[(chat, int(call.result["message_id"]))] = item
        if call.method != "sendMessage" or kind is not None:
            continue
        if (apology := apology_of(text)) is not None:
            latest.apologies.append(apology)
            latest.first.setdefault("apology", call.time)
            if apology != "ERROR" and latest.closed_at is None:
                latest.closed_at = call.time
        elif text == texts.RESUMED:
            latest.resumed = True
    for item in shown:
        if item.kind is not None and item.finished_at is None and not item.deleted:
            item.owner.drafts_left += 1
        if item.kind is not None and item.finished_at is not None and not item.deleted:
            item.owner.parts[item.kind] += 1
            first = item.owner.first
            first[item.kind] = min(first.get(item.kind, item.finished_at), item.finished_at)
    return outcomes


def answer_state(outcome: Outcome) -> str:
    """ "voice" (the last part arrived), "apology", or "waiting"."""
    return "voice" if outcome.parts["voice"] else "apology" if outcome.apologies else "waiting"


def settled(outcome: Outcome) -> bool:
    """The user heard back: the voice arrived, or an apology."""
    return answer_state(outcome) != "waiting"


# --- the report ----------------------------------------------------------------------------------------------


@dataclass
class ChaosReport:
    preset: str
    seed: int
    profile: str = "bot"
    photos_planned: int = 0
    kills_planned: int = 0
    photos_sent: int = 0
    aleatorio_sent: int = 0
    answered_fully: int = 0
    answered_with_apology: int = 0
    unanswered: int = 0
    parts_twice: int = 0
    photos_with_parts_twice: int = 0
    restarts: int = 0  # SIGKILLs of the bot (a replica, --scale), each followed by a restart
    worker_kills: int = 0
    redis_restarts: int = 0
    unexpected_exits: int = 0  # the bot ended on its own (restarted too)
    chats_abandoned: int = 0  # users who gave up waiting (patience) and went on from a new chat
    longest_wait_s: float | None = None  # send -> last part (or apology)
    longest_beyond_queue_s: float | None = None  # the same, from the first status that showed work on it
    faults_injected: dict[str, int] = field(default_factory=dict)
    faults_by_method: dict[str, int] = field(default_factory=dict)
    apologies: dict[str, int] = field(default_factory=dict)
    resumed_notes: int = 0
    stale_status_messages: int = 0  # status messages ("📥 Recebendo a foto…") left in chats at the end
    story_drafts_left: int = 0  # story messages left unfinished ("… ✍️") at the end
    errors_logged: int = 0  # ERROR lines in the bot's logs
    updates_by_replica: dict[str, int] = field(default_factory=dict)  # --scale: what the balancer sent each
    taken_over: int = 0  # --scale: requests a live replica took over from a killed one (its lease ran out)
    fill_disk: str | None = None
    wall_s: float = 0.0
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the run itself fell short (fewer photos or kills...)
    photos: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_ratio(self) -> float:
        return self.answered_fully / self.photos_sent if self.photos_sent else 0.0

    @property
    def targets_met(self) -> bool:
        return all(t["met"] for t in self.targets.values())

    @property
    def ok(self) -> bool:
        return self.targets_met and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "full_ratio": round(self.full_ratio, 4), "targets_met": self.targets_met}


def summarize(report: ChaosReport, outcomes: Sequence[Outcome]) -> None:
    """Fill the report's figures and targets from the outcomes."""
    verdicts = Counter(o.verdict for o in outcomes)
    report.photos_sent = len(outcomes)
    report.aleatorio_sent = sum(o.sent.kind == "aleatorio" for o in outcomes)
    report.answered_fully = verdicts["full"]
    report.answered_with_apology = verdicts["apology"]
    report.unanswered = verdicts["unanswered"]
    report.parts_twice = sum(o.parts_twice for o in outcomes)
    report.photos_with_parts_twice = sum(o.parts_twice > 0 for o in outcomes)
    waits = [w for o in outcomes if (w := o.wait_s) is not None]
    beyond = [b for o in outcomes if (b := o.beyond_queue_s) is not None]
    report.longest_wait_s = round(max(waits), 1) if waits else None
    report.longest_beyond_queue_s = round(max(beyond), 1) if beyond else None
    report.apologies = dict(Counter(a for o in outcomes for a in o.apologies))
    report.resumed_notes = sum(o.resumed for o in outcomes)
    report.story_drafts_left = sum(o.drafts_left for o in outcomes)
    report.photos = [o.to_json() for o in outcomes]
    longest = report.longest_beyond_queue_s
    report.targets = {
        "unanswered": {"value": report.unanswered, "target": f"= {MAX_UNANSWERED}"},
        "parts_twice": {"value": report.parts_twice, "target": f"= {MAX_PARTS_TWICE}"},
        "answered_fully": {"value": round(100 * report.full_ratio, 1), "target": f">= {MIN_FULL_RATIO:.0%}"},
        "longest_beyond_queue_s": {"value": longest, "target": f"<= {MAX_BEYOND_QUEUE_S:.0f} s"},
    }
    report.targets["unanswered"]["met"] = report.unanswered <= MAX_UNANSWERED
    report.targets["parts_twice"]["met"] = report.parts_twice <= MAX_PARTS_TWICE
    report.targets["answered_fully"]["met"] = report.photos_sent > 0 and report.full_ratio >= MIN_FULL_RATIO
    report.targets["longest_beyond_queue_s"]["met"] = longest is None or longest <= MAX_BEYOND_QUEUE_S
    if report.photos_sent < report.photos_planned:
        report.problems.append(f"only {report.photos_sent} of {report.photos_planned} photos were sent")
    if report.restarts < report.kills_planned:
        report.problems.append(f"only {report.restarts} of {report.kills_planned} SIGKILLs were made")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def render(report: ChaosReport, out: TextIO) -> None:
    """The report as a table on `out`."""
    n = report.photos_sent or 1
    mark = {True: "✓", False: "✗"}
    t = report.targets
    faults = " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.faults_injected.items())
    kills = f"{report.restarts}"
    if report.profile == "scale":
        kills += f" (+ {report.worker_kills} worker SIGKILLs, {report.redis_restarts} Redis restarts)"
        shares = ", ".join(f"{name} {n}" for name, n in sorted(report.updates_by_replica.items()))
    rows = [
        ("photos sent", f"{report.photos_sent} ({report.aleatorio_sent} /aleatorio)", "", ""),
        ("answered fully", f"{report.answered_fully} ({100 * report.answered_fully / n:.1f} %)",
         t["answered_fully"]["target"], mark[t["answered_fully"]["met"]]),
        ("answered with an apology", f"{report.answered_with_apology}", "", ""),
        ("unanswered", f"{report.unanswered}", t["unanswered"]["target"], mark[t["unanswered"]["met"]]),
        ("parts sent twice", f"{report.parts_twice} (in {report.photos_with_parts_twice} photos)",
         t["parts_twice"]["target"], mark[t["parts_twice"]["met"]]),
        ("restarts (SIGKILL)", kills, "", ""),
        ("unexpected bot exits", f"{report.unexpected_exits}", "", ""),
        ("users who gave up waiting", f"{report.chats_abandoned}", "", ""),
        ("longest send → last part", _seconds(report.longest_wait_s), "", ""),
        ("longest beyond queue", _seconds(report.longest_beyond_queue_s),
         t["longest_beyond_queue_s"]["target"], mark[t["longest_beyond_queue_s"]["met"]]),
        ("faults injected", faults or "none", "", ""),
        ("apologies", ", ".join(f"{k} {v}" for k, v in sorted(report.apologies.items())) or "none", "", ""),
        ("'restarted, going on' notes", f"{report.resumed_notes}", "", ""),
        ("status messages left", f"{report.stale_status_messages}", "", ""),
        ("unfinished story drafts left", f"{report.story_drafts_left}", "", ""),
        ("errors logged by the bot", f"{report.errors_logged}", "", ""),
        *([("updates per replica", shares or "none", "", ""), ("requests taken over", f"{report.taken_over}", "", "")]
          if report.profile == "scale" else []),
        ("wall time", f"{report.wall_s:.0f} s", "", ""),
    ]  # fmt: skip
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"Chaos run — preset {report.preset}, profile {report.profile}, seed {report.seed}", file=out)
    for name, value, target, met in rows:
        line = f"  {name:<{width[0]}}  {value:<{width[1]}}  {target:<{width[2]}}  {met}"
        print(line.rstrip(), file=out)
    for problem in report.problems:
        print(f"  ! {problem}", file=out)
    verdict = "targets met" if report.ok else "targets NOT met" if not report.problems else "run incomplete"
    print(f"Result: {verdict}", file=out)


# --- the run -------------------------------------------------------------------------------------------------


@dataclass
class ChaosConfig:
    preset: str = "default"
    photos: int = 50
    chats: int = 20
    kills: int = 5
    aleatorio_share: float = 0.1
    mean_gap_s: float = 3.0  # between two requests of the stream (exponential)
    uptime_s: tuple[float, float] = (12.0, 40.0)  # the bot runs this long (uniform) between two kills
    downtime_s: tuple[float, float] = (0.0, 3.0)  # dead this long before the restart
    patience_s: float = 60.0  # a user gives up on an unanswered request after this long (and uses a new chat)
    max_outstanding: int = 6  # requests waiting for an answer at once (load within capacity)...
    outstanding_horizon_s: float = 180.0  # ... counting those sent this recently (older ones count as lost)
    quiet_s: float = 20.0  # at the end: stop once nothing happened this long with the bot alive
    settle_max_s: float = 300.0  # ... or after this long, at most
    start_timeout_s: float = 180.0  # a (re)started bot must poll within this long
    rate_429: float = 0.02
    rate_500: float = 0.01
    rate_drop: float = 0.01
    rate_download_drop: float = 0.02
    startup_faults: bool = False  # faults on getMe / setMyCommands / deleteWebhook too
    fill_disk: str | None = None  # "limit" | "tmpfs"
    scale: bool = False
    replicas: int = 2  # --scale: bot replicas (webhook) and pipeline workers
    workers: int = 2
    replica_lease_s: float = 10.0  # --scale: REPLICA_LEASE_S; a killed replica stays down this long + 5 s
    story_tier: str = "quality"  # the bot's default; the small CI preset uses the light one (a story in ~2 s)
    worker_kills: int = 2
    redis_restarts: int = 1
    seed: int = 14
    keep: bool = False

    @classmethod
    def small(cls) -> ChaosConfig:
        return cls(
            preset="small", photos=8, chats=6, kills=2, mean_gap_s=3.0, uptime_s=(10.0, 20.0), story_tier="light",
            patience_s=40.0, max_outstanding=4, quiet_s=12.0, settle_max_s=90.0, worker_kills=1, redis_restarts=1,
        )  # fmt: skip

    def faults(self) -> RandomFaults:
        faults = RandomFaults(
            rate_429=self.rate_429,
            rate_500=self.rate_500,
            rate_drop=self.rate_drop,
            rate_download_drop=self.rate_download_drop,
            seed=self.seed,
        )
        if self.startup_faults:
            faults.method_factors = {"getupdates": 0.25}
        return faults


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def photo_files() -> list[Path]:
    found = sorted(p for folder in PHOTO_DIRS if folder.is_dir() for p in folder.glob("*.jpg"))
    if not found:
        raise SystemExit(f"no photos in {', '.join(str(d) for d in PHOTO_DIRS)}")
    return found


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without any variable the settings read (a developer's shell cannot change the run)."""
    names = {name.lower() for name in BotSettings.model_fields} | {"conta_worker_backends"}
    env = {k: v for k, v in os.environ.items() if k.lower() not in names}
    env.update(extra)
    return env


class Managed:
    """A subprocess of the run in its own session (so a kill takes its children too), logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, logs: Path) -> None:
        self.name, self.argv, self.env, self.cwd, self.logs = name, argv, env, cwd, logs
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.started_at = 0.0
        self.expected_exit = False
        self.exits: list[int] = []  # exit codes of ends we did not cause

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.starts += 1
        log_path = self.logs / f"{self.name}-{self.starts}.log"
        with log_path.open("wb") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=log_file,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.started_at = time.monotonic()
        self.expected_exit = False

    def _signal_group(self, sig: signal.Signals) -> None:
        """Signal the process's group, only while the process is not reaped (its id cannot have been reused)."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    async def kill(self) -> None:
        """SIGKILL the process and everything it started; wait for it."""
        if self.process is None:
            return
        self.expected_exit = True
        self._signal_group(signal.SIGKILL)
        await self.process.wait()

    async def stop(self, timeout_s: float = 40.0) -> None:
        """SIGTERM (a graceful stop), then SIGKILL what is left after `timeout_s`."""
        if self.process is None:
            return
        self.expected_exit = True
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), timeout_s)
        self._signal_group(signal.SIGKILL)  # still running after the deadline
        await self.process.wait()

    def noticed_exit(self) -> int | None:
        """The exit code if the process ended on its own since the last check, else None."""
        if self.process is None or self.process.returncode is None or self.expected_exit:
            return None
        self.expected_exit = True  # reported once
        self.exits.append(self.process.returncode)
        return self.process.returncode


class ChaosRun:
    """One chaos run; `run()` returns the report."""

    def __init__(self, config: ChaosConfig, folder: Path, out: TextIO = sys.stderr) -> None:
        self.config = config
        self.folder = folder
        self.out = out
        self.rng = random.Random(config.seed)
        self.data_dir = folder / "data"
        self.work_dir = folder / "work"  # the processes' working directory: no .env here
        self.logs = folder / "logs"
        for path in (self.data_dir, self.work_dir, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        self.report = ChaosReport(
            preset=config.preset, seed=config.seed, profile="scale" if config.scale else "bot",
            photos_planned=config.photos, kills_planned=config.kills, fill_disk=config.fill_disk,
        )  # fmt: skip
        self.tg: FakeTelegram | None = None
        self.bots: list[Managed] = []  # one polling bot, or (--scale) the webhook replicas
        self.webhook_ports: dict[str, int] = {}  # --scale: each replica's
        self.workers: list[Managed] = []
        self.balancer: Balancer | None = None
        self.redis: Managed | None = None
        self.redis_port = 0
        self.sent: list[Sent] = []
        self.last_of_chat: dict[int, Sent] = {}
        self.chat_of_user: dict[int, int] = {}
        self.next_chat = 0
        self.sending_done = False
        self.ready_at = 0.0
        self.mounted: list[Path] = []
        self.failed: str | None = None
        self.bot_lock = asyncio.Lock()  # one (re)start at a time: the kills' and the watcher's
        self.t0 = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[chaos {time.monotonic() - self.t0:6.1f}s] {text}", file=self.out, flush=True)

    # --- set-up ------------------------------------------------------------------------------------------

    def bot_env(self, api_root: str, data_dir: Path, **extra_env: str) -> dict[str, str]:
        media_port = free_port()
        extra = {
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_URL": api_root,
            "DATA_DIR": str(data_dir),
            "MEDIA_PORT": str(media_port),
            "METRICS_PORT": str(free_port()),
            "LOG_JSON": "1",
            "LOG_LEVEL": "INFO",
            "MALLOC_ARENA_MAX": "2",
            "PYTHONUNBUFFERED": "1",
            "STORY_TIER": self.config.story_tier,
        }
        if self.config.fill_disk:
            extra["MEDIA_MAX_TOTAL_MB"] = "1"
        if self.config.scale:
            extra.update(
                QUEUE_URL=f"redis://127.0.0.1:{self.redis_port}/0",
                QUEUE_NAME="chaos:queue",
                MEDIA_PUBLIC_URL=f"http://127.0.0.1:{media_port}",
                # One job per core: two workers of one job each, and the replicas together admit no more than
                # that (docs/DEPLOY.md: RUNNING_JOBS adds up to the workers' capacity); more would only slow
                # every story down past its deadline on these 2 cores.
                RUNNING_JOBS=str(max(1, self.config.workers // self.config.replicas)),
                WORKER_JOBS="1",
            )
        return clean_environment(**extra, **extra_env)

    def replica_names(self) -> list[str]:
        """--scale: the bot replicas, by name (their REPLICA_ID, data folder and log files)."""
        return [f"bot-{n}" for n in range(1, self.config.replicas + 1)]

    def replica_env(self, api_root: str, name: str, database_url: str) -> dict[str, str]:
        """--scale: a replica's settings: its name, its own data folder and webhook port, the shared store."""
        assert self.balancer is not None
        return self.bot_env(
            api_root, self.data_dir / name, REPLICA_ID=name, REPLICA_LEASE_S=str(self.config.replica_lease_s),
            DATABASE_URL=database_url, WEBHOOK_URL=self.balancer.url, WEBHOOK_PORT=str(self.webhook_ports[name]),
        )  # fmt: skip

    def fill_media_disk(self) -> None:
        """--fill-disk tmpfs: each media folder on a 2 MB tmpfs with only ~200 KB left (root only)."""
        folders = [self.data_dir / name for name in self.replica_names()]
        for media in (folder / "media" for folder in (folders if self.config.scale else [self.data_dir])):
            media.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(media)], capture_output=True, text=True
            )  # fmt: skip
            if result.returncode != 0:
                self.say(f"cannot mount a tmpfs ({result.stderr.strip() or 'not root?'}): MEDIA_MAX_TOTAL_MB=1 only")
                self.config.fill_disk = self.report.fill_disk = "limit"
                return
            self.mounted.append(media)
            (media / "filler").write_bytes(b"\0" * (2 * 1024 * 1024 - 200 * 1024))
            self.say(f"{media} on a 2 MB tmpfs, ~200 KB left")

    async def start_redis(self) -> None:
        assert self.redis is not None
        await self.redis.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.redis_port)
                writer.write(b"PING\r\n")
                answer = await asyncio.wait_for(reader.read(16), 2)
                writer.close()
                if answer.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    # --- the bot's life ----------------------------------------------------------------------------------

    async def start_bot(self, bot: Managed) -> None:
        """(Re)start a bot and wait until it polls the fake Bot API, or listens for the webhook (bounded)."""
        await bot.start()
        started = bot.started_at
        deadline = started + self.config.start_timeout_s
        while time.monotonic() < deadline:
            if self.ready(bot, started):
                self.ready_at = time.monotonic()
                self.say(f"{bot.name} start #{bot.starts} ready after {self.ready_at - started:.1f} s")
                return
            if not bot.alive:
                code = bot.noticed_exit()
                self.report.unexpected_exits += 1
                self.say(f"{bot.name} start #{bot.starts} ended with exit code {code}; restarting")
                if self.report.unexpected_exits > 10:
                    raise RuntimeError("the bot keeps ending on its own (see its logs)")
                await asyncio.sleep(1)
                await bot.start()
                started = bot.started_at
                deadline = started + self.config.start_timeout_s
                continue
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{bot.name} was not ready within {self.config.start_timeout_s:.0f} s of its start")

    def ready(self, bot: Managed, started: float) -> bool:
        """The bot polled since `started` or (a webhook replica) its webhook port takes connections."""
        assert self.tg is not None
        port = self.webhook_ports.get(bot.name)
        if port is None:
            return any(c.time >= started for c in reversed(self.tg.calls("getUpdates")))
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    async def watch(self) -> None:
        """Restart any managed process that ended on its own (counted)."""
        while True:
            await asyncio.sleep(0.5)
            for bot in self.bots:
                if not self.bot_lock.locked() and bot.noticed_exit() is not None:
                    self.report.unexpected_exits += 1
                    self.say(f"{bot.name} ended on its own (exit code {bot.exits[-1]}); restarting")
                    async with self.bot_lock:
                        await self.start_bot(bot)
            for worker in self.workers:
                if worker.noticed_exit() is not None:
                    self.say(f"{worker.name} ended on its own (exit code {worker.exits[-1]}); restarting")
                    await worker.start()

    def in_flight(self) -> bool:
        """Some request has not been answered yet."""
        return any(not settled(o) for o in self.outcomes_of(self.last_of_chat.values()))

    async def chaos(self) -> None:
        """The planned kills (and in --scale, worker kills and Redis restarts), at random moments."""
        events = ["bot"] * self.config.kills
        if self.config.scale:
            events += ["worker"] * self.config.worker_kills + ["redis"] * self.config.redis_restarts
            self.rng.shuffle(events)
            events.sort(key=lambda e: e == "redis")  # Redis last: its restart loses the most
        for event in events:
            await asyncio.sleep(self.rng.uniform(*self.config.uptime_s))
            waited = 0.0
            while not self.in_flight() and waited < 15 and not self.sending_done:  # a kill with work in flight
                await asyncio.sleep(0.5)
                waited += 0.5
            if event == "bot":
                bot = self.rng.choice(self.bots)
                async with self.bot_lock:
                    await bot.kill()
                    self.report.restarts += 1
                    self.say(f"SIGKILL {bot.name} ({self.report.restarts}/{self.config.kills})")
                    await asyncio.sleep(self.downtime())
                    await self.start_bot(bot)
            elif event == "worker":
                worker = self.rng.choice(self.workers)
                await worker.kill()
                self.report.worker_kills += 1
                self.say(f"SIGKILL {worker.name}")
                await asyncio.sleep(self.rng.uniform(*self.config.downtime_s))
                await worker.start()
            else:
                assert self.redis is not None
                await self.redis.kill()
                self.report.redis_restarts += 1
                self.say("Redis killed (its queue is lost); restarting it")
                await asyncio.sleep(self.rng.uniform(*self.config.downtime_s))
                await self.start_redis()

    def downtime(self) -> float:
        """How long a killed bot stays down: a replica, past its lease (another one takes its requests over)."""
        if self.config.scale:
            return self.config.replica_lease_s + 5
        return self.rng.uniform(*self.config.downtime_s)

    # --- the users ---------------------------------------------------------------------------------------

    def plan(self) -> list[tuple[int, str, Path | None]]:
        """(user, kind, photo) in sending order; every user sends at least one request."""
        photos = photo_files()
        users = [FIRST_CHAT + i for i in range(min(self.config.chats, self.config.photos))]
        owners = users + [self.rng.choice(users) for _ in range(self.config.photos - len(users))]
        self.rng.shuffle(owners)
        plan: list[tuple[int, str, Path | None]] = []
        for user in owners:
            if self.rng.random() < self.config.aleatorio_share:
                plan.append((user, "aleatorio", None))
            else:
                plan.append((user, "photo", self.rng.choice(photos)))
        return plan

    def outcomes_of(self, sent: Iterable[Sent]) -> list[Outcome]:
        assert self.tg is not None
        return classify(list(sent), self.tg.calls())

    def chat_for(self, user: int, now: float, state: dict[int, str]) -> int | None:
        """The chat `user` sends the next request from, or None while its previous request is unanswered.

        `state` is the state of each chat's latest request: "voice", "apology" or "waiting". A user goes on in
        the same chat only after a voice, the last part of an answer; after an apology (the bot may still be
        working: a generic error can be said while the job goes on) or after `patience_s` without an answer,
        from a new private chat. So a chat never has two requests that may both still get parts, and every part
        goes to the right request (`classify`).
        """
        chat = self.chat_of_user.setdefault(user, user)
        last = self.last_of_chat.get(chat)
        if last is None or state.get(chat) == "voice":
            return chat
        if state.get(chat) != "apology":
            if now - last.time < self.config.patience_s:
                return None
            self.report.chats_abandoned += 1
        self.next_chat += 1
        self.chat_of_user[user] = self.next_chat
        return self.next_chat

    async def users(self) -> None:
        """The stream: a request every `mean_gap_s` on average, from a chat whose previous one is answered, while
        fewer than `max_outstanding` wait for an answer (this measures crashes, not overload: tools.loadtest does)."""
        assert self.tg is not None
        waiting = deque(self.plan())
        self.next_chat = FIRST_CHAT + 10_000
        while waiting:
            await asyncio.sleep(self.rng.expovariate(1 / self.config.mean_gap_s))
            while True:
                now = time.monotonic()
                everything = self.outcomes_of(self.sent)
                state = {o.sent.chat_id: answer_state(o) for o in everything}  # the latest of each chat wins
                horizon = self.config.outstanding_horizon_s
                outstanding = sum(not settled(o) and now - o.sent.time < horizon for o in everything)
                ready = next(
                    ((item, chat) for item in waiting if (chat := self.chat_for(item[0], now, state)) is not None),
                    None,
                )
                if ready is not None and outstanding < self.config.max_outstanding:
                    break
                await asyncio.sleep(0.5)
            item, chat = ready
            waiting.remove(item)
            _, kind, photo = item
            if kind == "aleatorio":
                self.tg.text(chat, chat, "/aleatorio")
            else:
                assert photo is not None
                self.tg.private_photo(chat, chat, photo.read_bytes())
            sent = Sent(chat, kind, time.monotonic(), photo.name if photo else "")
            self.sent.append(sent)
            self.last_of_chat[chat] = sent
        self.sending_done = True
        self.say(f"all {len(self.sent)} requests sent")

    async def settle(self) -> None:
        """With the bot alive: until every request is answered or nothing happened for `quiet_s` (bounded)."""
        assert self.tg is not None
        deadline = time.monotonic() + self.config.settle_max_s
        while time.monotonic() < deadline:
            now = time.monotonic()
            activity = max((c.time for c in self.tg.calls() if c.method != "getUpdates"), default=0.0)
            alive = bool(self.bots) and all(bot.alive for bot in self.bots)
            if alive and all(settled(o) for o in self.outcomes_of(self.sent)):
                await asyncio.sleep(3)  # late duplicates would show up here
                return
            if alive and now - max(activity, self.ready_at) >= self.config.quiet_s:
                return
            await asyncio.sleep(0.5)
        self.say(f"still unsettled after {self.config.settle_max_s:.0f} s; stopping")

    # --- the whole run -----------------------------------------------------------------------------------

    async def run(self) -> ChaosReport:
        self.t0 = time.monotonic()
        if self.config.fill_disk == "tmpfs":
            self.fill_media_disk()
        if self.config.fill_disk and not self.config.scale:
            self.say("note: in-process, the media server stores nothing; a full media disk matters with --scale")
        calls: list[Call] = []
        try:
            async with contextlib.AsyncExitStack() as stack:
                fake = FakeTelegram(DEFAULT_TOKEN, port=free_port(), random_faults=self.config.faults())
                tg = await stack.enter_async_context(fake)
                self.tg = tg
                database_url = None
                if self.config.scale:
                    database_url = stack.enter_context(postgres_server()).new_database()
                    self.webhook_ports = {name: free_port() for name in self.replica_names()}
                    urls = {name: f"http://127.0.0.1:{port}" for name, port in self.webhook_ports.items()}
                    self.balancer = await stack.enter_async_context(Balancer(urls))
                try:
                    await self.start_system(tg, database_url)
                    await self.stream_and_kill()
                finally:
                    calls = tg.calls()
                    self.snapshot(tg)
                    await self.stop_system()
        except (RuntimeError, FileNotFoundError) as exc:
            self.failed = str(exc)
            self.report.problems.append(f"run failed: {exc}")
        finally:
            self.unmount()
        summarize(self.report, classify(self.sent, calls))
        self.report.errors_logged = count_errors(self.logs)
        self.report.taken_over = count_taken_over(self.logs)
        self.report.wall_s = round(time.monotonic() - self.t0, 1)
        return self.report

    async def start_system(self, tg: FakeTelegram, database_url: str | None) -> None:
        """--scale: Redis, the workers and the webhook replicas on `database_url`; else the bot, polling."""
        if not self.config.scale:
            self.bots = [self.managed("bot", "bot.py", self.bot_env(tg.root, self.data_dir))]
        else:
            assert database_url is not None
            server = shutil.which("redis-server") or "/usr/bin/redis-server"
            self.redis_port = free_port()
            options = ["--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            self.redis = Managed("redis", [server, *options], os.environ.copy(), self.work_dir, self.logs)
            await self.start_redis()
            envs = {name: self.replica_env(tg.root, name, database_url) for name in self.webhook_ports}
            self.bots = [self.managed(name, "bot.py", env) for name, env in envs.items()]
            numbers = range(1, self.config.workers + 1)
            worker_env = envs[self.bots[0].name]  # the queue's settings; the rest is the bot's alone
            self.workers = [self.managed(f"worker-{n}", "worker.py", worker_env) for n in numbers]
            for worker in self.workers:
                await worker.start()
        self.say(f"starting {len(self.bots)} bot(s) (fake Bot API at {tg.root}, DATA_DIR {self.data_dir})")
        async with self.bot_lock:
            for bot in self.bots:
                await self.start_bot(bot)

    def managed(self, name: str, program: str, env: dict[str, str]) -> Managed:
        return Managed(name, [sys.executable, str(ROOT / program)], env, self.work_dir, self.logs)

    async def stream_and_kill(self) -> None:
        """The users and the chaos side by side, then the settling; a watcher restarts what ends on its own."""
        watcher = asyncio.create_task(self.watch())
        tasks = [asyncio.create_task(self.users()), asyncio.create_task(self.chaos())]
        try:
            await asyncio.gather(*tasks)
            self.say("sending and kills done; waiting for the bot to settle")
            await self.settle()
        finally:
            for task in (*tasks, watcher):
                task.cancel()
            results = await asyncio.gather(*tasks, watcher, return_exceptions=True)
            for result in results:
                if isinstance(result, RuntimeError):
                    raise result

    def snapshot(self, tg: FakeTelegram) -> None:
        """What the fake saw, before the bot is stopped (a graceful stop would add its own messages); the calls
        and the requests also go to the run folder (kept with --keep) for a closer look."""
        with (self.folder / "calls.jsonl").open("w") as out:
            for c in tg.calls():
                result = c.result if not isinstance(c.result, dict) else {"message_id": c.result.get("message_id")}
                row = {"method": c.method, "params": c.params, "time": c.time, "status": c.status, "result": result}
                print(json.dumps(row, ensure_ascii=False, default=str), file=out)
        with (self.folder / "sent.jsonl").open("w") as out:
            for sent in self.sent:
                print(json.dumps(asdict(sent), ensure_ascii=False), file=out)
        chats = {s.chat_id for s in self.sent}
        texts_now = (str(m.get("text", "")) for chat in chats for m in tg.sent_messages(chat))
        self.report.stale_status_messages = sum(t.startswith(STATUS_TEXTS) for t in texts_now)
        self.report.faults_injected = {k: tg.faults_injected[k] for k in FAULT_KINDS}
        self.report.faults_by_method = {f"{k} {m}": n for (k, m), n in sorted(tg.faults_by_method.items())}
        if self.balancer is not None:
            self.report.updates_by_replica = dict(self.balancer.answered)

    async def stop_system(self) -> None:
        for managed in (*self.bots, *self.workers, self.redis):
            if managed is not None:
                await managed.stop(timeout_s=30 if managed in self.bots else 5)

    def unmount(self) -> None:
        for media in self.mounted:
            subprocess.run(["umount", "-l", str(media)], check=False, capture_output=True)
        self.mounted = []


def bot_log_lines(logs: Path) -> Iterator[dict[str, Any]]:
    """The JSON lines of every bot start's log."""
    for path in sorted(logs.glob("bot-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                if isinstance(entry := json.loads(line), dict):
                    yield entry


def count_errors(logs: Path) -> int:
    """ERROR (and CRITICAL) lines in the JSON logs of every bot start."""
    return sum(entry.get("level") in ("ERROR", "CRITICAL") for entry in bot_log_lines(logs))


def count_taken_over(logs: Path) -> int:
    """Requests a running replica took over from another (handlers/recovery.py's "recovering", not at start)."""
    lines = bot_log_lines(logs)
    return sum(e.get("requests", 0) for e in lines if e.get("message") == "recovering" and e.get("at_start") is False)


def parse_args(argv: list[str] | None) -> tuple[ChaosConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m tools.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the CI preset: 8 photos, 6 chats, 2 SIGKILLs")
    parser.add_argument("--photos", type=int, help="requests to send (default 50; --small 8)")
    parser.add_argument("--chats", type=int, help="users sending them (default 20; --small 6)")
    parser.add_argument("--kills", type=int, help="SIGKILLs of the bot (default 5; --small 2; --scale 2, --small 1)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--rate-429", type=float, help="share of calls answered 429 retry_after=1 (default 0.02)")
    parser.add_argument("--rate-500", type=float, help="share of calls answered 500 (default 0.01)")
    parser.add_argument("--rate-drop", type=float, help="share of connections dropped unanswered (default 0.01)")
    parser.add_argument("--rate-download-drop", type=float, help="share of file downloads dropped (default 0.02)")
    parser.add_argument("--no-faults", action="store_true", help="no 429/500/drops: kills only")
    parser.add_argument("--startup-faults", action="store_true", help="faults on getMe/setMyCommands/deleteWebhook too")
    parser.add_argument(
        "--fill-disk",
        choices=("limit", "tmpfs"),
        help="a full media store: MEDIA_MAX_TOTAL_MB=1 ('limit'), plus (root) a 2 MB tmpfs with ~200 KB free",
    )
    parser.add_argument(
        "--scale", action="store_true", help="2 webhook replicas behind a balancer, PostgreSQL, Redis, 2 workers"
    )
    parser.add_argument("--story-tier", choices=("quality", "light"), help="the bot's (default quality; --small light)")
    parser.add_argument(
        "--patience", type=float, help="seconds a user waits for an answer, then goes on from a new chat"
    )
    parser.add_argument("--json", type=Path, help="also write the report (and every photo's outcome) here")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, DATA_DIR)")
    args = parser.parse_args(argv)
    config = ChaosConfig.small() if args.small else ChaosConfig()
    config.seed = args.seed
    for name in ("photos", "chats", "kills", "rate_429", "rate_500", "rate_drop", "rate_download_drop"):
        if (value := getattr(args, name)) is not None:
            setattr(config, name, value)
    if args.patience is not None:
        config.patience_s = args.patience
    if args.no_faults:
        config.rate_429 = config.rate_500 = config.rate_drop = config.rate_download_drop = 0.0
    config.startup_faults = args.startup_faults
    config.fill_disk = args.fill_disk
    config.scale = args.scale
    if config.scale and args.kills is None:  # a replica kill costs a lease's wait: fewer of them
        config.kills = 1 if args.small else 2
    config.keep = args.keep
    config.story_tier = args.story_tier or config.story_tier
    if config.photos < 1 or config.chats < 1 or config.kills < 0:
        parser.error("--photos and --chats must be at least 1, --kills at least 0")
    if config.scale and not (shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()):
        parser.error("--scale needs redis-server (scripts/setup-system.sh installs it)")
    return config, args


def main(argv: list[str] | None = None) -> int:
    config, args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        run = ChaosRun(config, folder)
        report = asyncio.run(run.run())
    finally:
        if config.keep:
            print(f"run folder kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    render(report, sys.stdout)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    if run.failed:
        return 2
    return 0 if report.ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
