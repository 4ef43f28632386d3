"""A throwaway PostgreSQL server on loopback, from Debian's `postgresql` package, for the store's tests.

    with postgres_server() as server:
        url = server.new_database()   # postgresql+asyncpg://postgres@127.0.0.1:PORT/test_1

initdb refuses to run as root, so as root the server runs as Debian's `postgres` user (runuser). It listens on
127.0.0.1 and a socket in its temporary folder only, trusts local connections, and is stopped (immediate
mode) and deleted at the end.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .loopback import free_port

START_TIMEOUT_S = 30


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<version>/bin), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@dataclass
class PostgresServer:
    port: int
    bin: Path
    socket_dir: Path
    run_as: list[str]
    _databases: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy async URL."""
        name = f"test_{next(self._databases)}"
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", f"CREATE DATABASE {name}")
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / program), *args], check=True, capture_output=True, timeout=START_TIMEOUT_S
        )


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL cluster; raises FileNotFoundError when PostgreSQL is not installed."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="conta-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    server = PostgresServer(free_port(), bindir, folder, run_as)
    try:
        server._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(folder / "server.log")  # the server's output goes there, not to our pipes (run() would wait)
        server._run("pg_ctl", "-D", str(data), "-l", log, "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start")
        yield server
    finally:
        if data.exists():
            with contextlib.suppress(subprocess.SubprocessError):
                server._run("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
