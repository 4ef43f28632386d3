"""Rebuild assets/gallery/ — the offline landscapes for /aleatorio — from Debian wallpaper packages.

Why Debian: its packages are freely licensed, and every package's debian/copyright names the author and
licence of each file, so the provenance of each photo can be checked by anyone. The selection below was
made by looking at every photograph in the candidate packages (lomiri-wallpapers*, mate-backgrounds,
plasma-workspace-wallpapers, lxqt-themes, enlightenment-data, ukui-wallpapers, gnome-backgrounds,
sway-backgrounds, xfdesktop4-data, lxde-common): only real landscape photographs whose author and licence
are stated, no abstract or macro shots.

Usage (root or not, on Debian bookworm; `apt-get update` first):
    .venv/bin/python -m scripts.build_gallery [--workdir DIR] [--out assets/gallery]
Needs apt-get and dpkg-deb, `edje_decc` (Debian package libedje-bin) for the Enlightenment backgrounds,
and Pillow. Packages are downloaded at the exact versions below, so a rerun gives the same photos.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from scripts.debian_packages import Package, build_from_command_line, download, license_paragraph

MAX_SIDE = 1600
JPEG_QUALITY = 85
REPO = Path(__file__).resolve().parent.parent
MODIFIED = f"downscaled to at most {MAX_SIDE} px, re-encoded as JPEG (quality {JPEG_QUALITY}), metadata removed"


LOMIRI = Package("lomiri-wallpapers-16.04", "20.04.0-2")
MATE = Package("mate-backgrounds", "1.26.0-1")
PLASMA = Package("plasma-workspace-wallpapers", "4:5.27.5-2")
LXQT = Package("lxqt-themes", "1.2.0-1")
ENLIGHTENMENT = Package("enlightenment-data", "0.25.4-2")


@dataclass(frozen=True)
class License:
    url: str
    text_file: str | None = None  # licence text shipped in LICENSES/ when the licence asks for a copy


LICENSES = {
    "CC0-1.0": License("https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC-BY-4.0": License("https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-3.0": License("https://creativecommons.org/licenses/by-sa/3.0/"),
    "GPL-2.0-or-later": License("https://www.gnu.org/licenses/old-licenses/gpl-2.0.html", "GPL-2.0.txt"),
    "LGPL-3.0-only": License("https://www.gnu.org/licenses/lgpl-3.0.html", "LGPL-3.0.txt"),
    "BSD-2-Clause": License("https://opensource.org/license/bsd-2-clause", "BSD-2-Clause.txt"),
}
# LGPL-3.0 is a set of additional permissions on top of GPL-3.0, so both texts travel together.
LICENSE_TEXTS = {
    "GPL-2.0.txt": "/usr/share/common-licenses/GPL-2",
    "GPL-3.0.txt": "/usr/share/common-licenses/GPL-3",
    "LGPL-3.0.txt": "/usr/share/common-licenses/LGPL-3",
}


@dataclass(frozen=True)
class Pick:
    """One chosen photo: where it is in its package, and what debian/copyright says about it."""

    file: str
    title: str
    scene: str
    package: Package
    member: str  # path inside the package (for .edj, the Enlightenment background file)
    author: str
    copyright: str  # the copyright line as the package states it
    license: str
    note: str = ""  # where the per-file licence statement comes from, when not debian/copyright


_LOMIRI_DIR = "usr/share/backgrounds"
_PLASMA_NOTE = (
    "licence and author from the wallpaper's metadata.json (debian/copyright lists the whole package as "
    "GPL-2+, © 2014 KDE Visual Design Group)"
)
_LXQT_NOTE = (
    "licence and author from usr/share/lxqt/wallpapers/License (debian/copyright lists the package as "
    "LGPL-2.1+, © Razor team, LXQt team)"
)
_E_AUTHOR = "Carsten Haitzler and Enlightenment contributors"
_E_COPYRIGHT = "2000-2020 Carsten Haitzler and various contributors (see AUTHORS)"


def _plasma(file: str, title: str, scene: str, wallpaper: str, author: str) -> Pick:
    return Pick(
        file, title, scene, PLASMA, f"usr/share/wallpapers/{wallpaper}/contents/images/2560x1600.jpg",
        author, f"{author}; package: 2014 KDE Visual Design Group", "LGPL-3.0-only", _PLASMA_NOTE,
    )  # fmt: skip


def _lxqt(file: str, title: str, scene: str, name: str) -> Pick:
    return Pick(
        file, title, scene, LXQT, f"usr/share/lxqt/wallpapers/{name}",
        "stefonarch", "2022 LXQt Project Team; photo by stefonarch", "CC-BY-SA-3.0", _LXQT_NOTE,
    )  # fmt: skip


def _enlightenment(file: str, title: str, scene: str, name: str) -> Pick:
    return Pick(
        file, title, scene, ENLIGHTENMENT, f"usr/share/enlightenment/data/backgrounds/{name}.edj",
        _E_AUTHOR, _E_COPYRIGHT, "BSD-2-Clause",
    )  # fmt: skip


def _lomiri(file: str, title: str, scene: str, name: str, author: str, year: str, lic: str) -> Pick:
    return Pick(file, title, scene, LOMIRI, f"{_LOMIRI_DIR}/{name}", author, f"{author}, {year}", lic)


PICKS: list[Pick] = [
    _lomiri("aitzgorri.jpg", "Aitzgorri", "mountains, autumn forest, meadow",
            "aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "2018", "CC-BY-4.0"),
    _lomiri("picos-de-europa.jpg", "Picos de Europa", "rocky mountains with snow, path",
            "picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "2018", "CC-BY-4.0"),
    _lomiri("life.jpg", "Life", "forest, stream, rocks",
            "life_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "2018", "CC-BY-4.0"),
    _lomiri("sunset.jpg", "Sunset", "sunset over hills",
            "sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "2018", "CC-BY-4.0"),
    _lomiri("seeding.jpg", "Seeding", "meadow of dandelions, evening sun",
            "seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt", "2018", "CC0-1.0"),
    Pick("dune.jpg", "Dune", "coastal dune grass, sea", MATE, "usr/share/backgrounds/mate/nature/Dune.jpg",
         "Marco Cogoni", "2007 Marco Cogoni; 2008 Hylke Bons", "GPL-2.0-or-later"),
    Pick("storm.jpg", "Storm", "storm clouds over a plain, road", MATE,
         "usr/share/backgrounds/mate/nature/Storm.jpg", "Sergey Nazarov", "2008 Sergey Nazarov",
         "GPL-2.0-or-later"),
    _plasma("evening-glow.jpg", "Evening Glow", "lake at sunset, rowing boats", "EveningGlow", "Ian Hex"),
    _plasma("path.jpg", "Path", "pine forest, path", "Path", "Risto Saukonpää"),
    _plasma("cold-ripple.jpg", "Cold Ripple", "jetty on a foggy lake", "ColdRipple", "Risto Saukonpää"),
    _plasma("darkest-hour.jpg", "Darkest Hour", "lake at dusk, blue mist", "DarkestHour",
            "Risto Saukonpää"),
    _plasma("summer-1am.jpg", "summer 1am", "calm lake at dawn, reeds", "summer_1am", "Risto Saukonpää"),
    _plasma("by-the-water.jpg", "By the water", "lake shore, wooden jetty", "BytheWater", "Maciej Wiklo"),
    _lxqt("beam.jpg", "Beam", "sunbeams over wooded hills", "beam.png"),
    _lxqt("fog.jpg", "Fog", "field with fog on a hillside", "fog.jpg"),
    _lxqt("green-hills.jpg", "This is not Windows", "green hills, ploughed field, blue sky",
          "this-is-not-windows.jpg"),
    _lxqt("after-the-rain.jpg", "After the rain", "sunset clouds over hills", "after-the-rain.jpg"),
    _enlightenment("mountain.jpg", "Mountain", "snowy mountain peaks at dusk", "Mountain"),
    _enlightenment("peaks.jpg", "Peaks", "rocky peaks in the last light", "Peaks"),
    _enlightenment("snow-trees.jpg", "Snow Trees", "birches on a snowy slope", "Snow-Trees"),
    _enlightenment("god-rays.jpg", "God Rays", "sunbeams through clouds", "God-Rays"),
    _enlightenment("sunset-clouds.jpg", "Sunset Clouds", "clouds at sunset", "Sunset-Clouds"),
]  # fmt: skip


def open_source(pick: Pick, root: Path, workdir: Path) -> Image.Image:
    path = root / pick.member
    if path.suffix == ".edj":  # an Enlightenment theme file: the full-size photo is the image named img.png
        out = workdir / "edj" / path.stem
        if not out.is_dir():
            subprocess.run(["edje_decc", str(path), "-output", str(out)], check=True, capture_output=True)
        path = out / "img.png"
    return Image.open(path)


def to_gallery_jpeg(img: Image.Image) -> tuple[bytes, int, int]:
    """Upright, sRGB, ≤ MAX_SIDE, JPEG without EXIF/ICC/comments."""
    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if icc:  # convert colours before the profile is dropped, so that non-sRGB photos keep their look
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb, outputMode="RGB")
        assert converted is not None  # None only with inPlace=True
        img = converted
    img = img.convert("RGB")
    img.info.clear()  # Pillow would carry a JPEG comment over
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buf.getvalue(), img.width, img.height


def credit_record(pick: Pick, width: int, height: int) -> dict[str, object]:
    return {
        "file": pick.file,
        "title": pick.title,
        "author": pick.author,
        "author_url": None,
        "license": pick.license,
        "license_url": LICENSES[pick.license].url,
        "source": f"Debian package {pick.package.name}",
        "source_url": f"https://packages.debian.org/bookworm/{pick.package.name}",
        "width": width,
        "height": height,
        "scene": pick.scene,
        "package": pick.package.name,
        "package_version": pick.package.version,
        "original": pick.member,
        "copyright": pick.copyright,
    }


def notice(records: list[dict[str, object]]) -> str:
    lines = [
        "# Gallery notices",
        "",
        'The photos in this folder come from Debian packages (Debian 12 "bookworm"); '
        "`scripts/build_gallery.py` rebuilds them. Every photo was modified: " + MODIFIED + ".",
        "Licence texts that the licences ask to ship are in `LICENSES/`; the Creative Commons licences "
        "are referenced by their URL, as they allow.",
        "",
    ]
    notes = {pick.file: pick.note for pick in PICKS}
    for rec in records:
        lines += [
            f"## {rec['file']} — “{rec['title']}”",
            "",
            f"- Copyright: {rec['copyright']}",
            f"- Author: {rec['author']}",
            f"- Licence: {rec['license']} <{rec['license_url']}>",
            f"- Source: {rec['source']} {rec['package_version']}, file `{rec['original']}` <{rec['source_url']}>",
        ]
        if notes[str(rec["file"])]:
            lines.append(f"- Note: {notes[str(rec['file'])]}")
        lines.append("")
    return "\n".join(lines)


def write_license_texts(out: Path, workdir: Path) -> None:
    dest = out / "LICENSES"
    dest.mkdir(exist_ok=True)
    for name, system_path in LICENSE_TEXTS.items():
        shutil.copyfile(system_path, dest / name)
    e_copyright = workdir / ENLIGHTENMENT.name / "usr/share/doc" / ENLIGHTENMENT.name / "copyright"
    bsd = license_paragraph(e_copyright, "BSD-2-clause")
    (dest / "BSD-2-Clause.txt").write_text(
        f"Applies to the photos from {ENLIGHTENMENT.name} (see NOTICE.md).\n\nCopyright (c) {_E_COPYRIGHT}\n\n{bsd}",
        encoding="utf-8",
    )


def build(out: Path, workdir: Path) -> list[dict[str, object]]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.jpg"):
        old.unlink()
    records = []
    for pick in PICKS:
        root = download(pick.package, workdir)
        data, width, height = to_gallery_jpeg(open_source(pick, root, workdir))
        (out / pick.file).write_bytes(data)
        records.append(credit_record(pick, width, height))
        print(f"{pick.file:24} {width}x{height} {len(data) // 1024:5d} KiB  {pick.license}")
    (out / "credits.json").write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "NOTICE.md").write_text(notice(records), encoding="utf-8")
    write_license_texts(out, workdir)
    total = sum(p.stat().st_size for p in out.glob("*.jpg"))
    print(f"{len(records)} photos, {total / 1e6:.1f} MB in {out}")
    return records


def main() -> None:
    build_from_command_line(__doc__.splitlines()[0], REPO / "assets" / "gallery", build)


if __name__ == "__main__":
    main()
