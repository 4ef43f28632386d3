"""Photos out of Debian packages, for the scripts that rebuild the bundled gallery and the everyday test set:
a package pinned to a version, fetched and unpacked, and a licence text read from its debian/copyright."""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Package:
    name: str
    version: str


def download(package: Package, workdir: Path) -> Path:
    """apt-get download + dpkg-deb -x; returns the extracted root."""
    root = workdir / package.name
    if root.is_dir():
        return root
    subprocess.run(["apt-get", "download", f"{package.name}={package.version}"], cwd=workdir, check=True)
    (deb,) = workdir.glob(f"{package.name}_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def license_paragraph(copyright_file: Path, name: str) -> str:
    """The text of a stand-alone `License: NAME` paragraph of a machine-readable debian/copyright."""
    text = copyright_file.read_text(encoding="utf-8")
    match = re.search(rf"^License: {re.escape(name)}\n((?: .*\n?)+)", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no License: {name} paragraph in {copyright_file}")
    lines = (line[1:] for line in match.group(1).splitlines())
    return "\n".join("" if line == "." else line for line in lines) + "\n"


def build_from_command_line(description: str, default_out: Path, build: Callable[[Path, Path], object]) -> None:
    """`--out DIR --workdir DIR`: call `build(out, workdir)`, in a temporary workdir unless one is given."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--workdir", type=Path, help="where packages are downloaded (default: a temp dir)")
    args = parser.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        build(args.out, args.workdir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix=f"{default_out.name}-") as tmp:
            build(args.out, Path(tmp))
