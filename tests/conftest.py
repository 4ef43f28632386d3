"""Shared test setup. Tests talk only to 127.0.0.1; models load once per module where used."""

from __future__ import annotations

import os

# PTB 22 warns that RetryAfter.retry_after will become a timedelta; opt in now (our code does not read it).
os.environ.setdefault("PTB_TIMEDELTA", "1")
