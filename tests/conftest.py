"""Shared test setup. Tests talk only to 127.0.0.1; models load once per module where used."""

from __future__ import annotations

import os

# PTB 22 warns that RetryAfter.retry_after will become a timedelta; opt in now (our code does not read it).
os.environ.setdefault("PTB_TIMEDELTA", "1")
# The suite writes its stories with the light tier (SmolLM2-135M: a story in ~2 s, not ~7 s), the bots and workers
# it starts too (they inherit this environment); tests/pipeline/test_story_quality.py runs the quality tier on purpose.
os.environ.setdefault("STORY_TIER", "light")
