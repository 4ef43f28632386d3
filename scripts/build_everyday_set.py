"""Rebuild the Debian part of tests/data/everyday/ — a public test set of everyday photos — from Debian packages.

The set measures whether the captioner names the main subject of an everyday photo (people, pets, food,
vehicles, rooms, streets...). Every photo here comes from a Debian package whose debian/copyright, or a credits
file shipped next to the photo, states the author and a free licence for that very file; each pick below
records where that statement is. Every photo was looked at before it was labelled (subject, people, setting,
light, weather). The sample images of scikit-image, scikit-learn and OpenCV (and copies of them) are deliberately
NOT used: they are kept for an independent check.

The folder is shared: this script owns photos.toml, CREDITS.md and the photos photos.toml lists; other builders
own their photos-*.toml manifests and photos (scripts/build_everyday_pypi_npm.py: photos-pypi-npm.toml). A rebuild
removes only the photos its previous photos.toml listed and stops rather than overwrite another builder's file.

Sources (Debian 12 "bookworm"):
  gcompris-qt-data   photos inside Qt resource files (.rcc); credits in the README beside each photo (for
                     explore_monuments in the activity's resource/README; the details activity's puzzle
                     backgrounds are whole photos adapted by the GCompris team, CC-BY-SA-4.0)
  kphotoalbum        the demo album (upstream .reuse/dep5: demo/*.jpg © 2003-2007 Jesper K. Pedersen, CC-BY-SA-4.0);
                     photos the album's index.xml rotates are turned upright by the same angle
  palapeli-data      puzzle photos; author and licence in the puzzle's .desktop file
  scribus-template   template photos by Riku Leino, placed in the public domain (debian/copyright)
  lomiri-wallpapers-16.04, lomiri-wallpapers-20.04, plasma-workspace-wallpapers, mate-backgrounds   wallpapers
                     (debian/copyright, metadata.json for Plasma)
  lxqt-themes        wallpapers by stefonarch; the License file beside them: CC-BY-SA-3.0
  gnome-taquin       the cats theme: Wikimedia Commons photos, author and licence per file in debian/copyright
  tuxpaint-data, tuxpaint-stamps-default   photo templates by Bill Kendrick, photo stamps (GPL-2+)
  scratch            Scratch 1.4 media: backgrounds and photo cut-outs (debian/copyright: Media/* © MIT, CC-BY-SA-3.0)
  qtdeclarative5-examples, qtwebengine5-examples   example photos (debian/copyright: examples/* © The Qt Company,
                     BSD-3-clause)
  gimp-help-en       example photos of the GIMP manual (debian/copyright: © The GIMP Documentation Team, GFDL-1.2+)
  puzzle-jigsaw      sample puzzles (debian/copyright: samples/* © Pexels, CC0-1.0)
  libjs-jquery-ui-docs   demo photos (debian/copyright: demos/* CC0)
  libjs-cropper, libjs-jquery-backstretch, libvips-doc   example photos under the package's own licence
                     (debian/copyright Files: *: BSD, Expat, LGPL-2.1)

Usage (Debian bookworm, `apt-get update` first; needs apt-get, dpkg-deb and Pillow with WebP support):
    .venv/bin/python -m scripts.build_everyday_set [--workdir DIR] [--out tests/data/everyday]
Packages are downloaded at the exact versions below, so a rerun gives the same photos.
"""

from __future__ import annotations

import io
import shutil
import struct
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from scripts.debian_packages import Package, build_from_command_line, download, license_paragraph

MAX_SIDE = 640
JPEG_QUALITY = 85
REPO = Path(__file__).resolve().parent.parent
MODIFIED = f"downscaled to at most {MAX_SIDE} px, re-encoded as JPEG (quality {JPEG_QUALITY}), metadata removed"


GCOMPRIS = Package("gcompris-qt-data", "3.1-2")
KPA = Package("kphotoalbum", "5.9.1-1")
PALAPELI = Package("palapeli-data", "4:22.12.3-1")
SCRIBUS = Package("scribus-template", "1.2.4.1-6")
LOMIRI = Package("lomiri-wallpapers-16.04", "20.04.0-2")
PLASMA = Package("plasma-workspace-wallpapers", "4:5.27.5-2")
MATE = Package("mate-backgrounds", "1.26.0-1")
TUXPAINT = Package("tuxpaint-data", "1:0.9.28-sdl2-1")
STAMPS = Package("tuxpaint-stamps-default", "2022.06.04-1")
SCRATCH = Package("scratch", "1.4.0.6~dfsg1-6.1")
QTDECL = Package("qtdeclarative5-examples", "5.15.8+dfsg-3")
QTWEB = Package("qtwebengine5-examples", "5.15.13+dfsg-1~deb12u1")
LOMIRI20 = Package("lomiri-wallpapers-20.04", "20.04.0-2")
TAQUIN = Package("gnome-taquin", "3.38.1-2+b1")
LXQT = Package("lxqt-themes", "1.2.0-1")
GIMPHELP = Package("gimp-help-en", "2.10.34-2")
PJIGSAW = Package("puzzle-jigsaw", "1.0.2+git20201007.527c529+dfsg-4+b1")
JQUI = Package("libjs-jquery-ui-docs", "1.13.2+dfsg-1")
CROPPER = Package("libjs-cropper", "1.2.2-1.1")
BACKSTRETCH = Package("libjs-jquery-backstretch", "2.1.17-4")
VIPSDOC = Package("libvips-doc", "8.14.1-3+deb12u3")

LICENSE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-2.0": "https://creativecommons.org/licenses/by/2.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "BSD-3-Clause": "https://opensource.org/licenses/BSD-3-Clause",
    "GPL-2.0-or-later": "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
    "LGPL-3.0-only": "https://www.gnu.org/licenses/lgpl-3.0.html",
    "LGPL-2.1-only": "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html",
    "GFDL-1.2-no-invariants-or-later": "https://www.gnu.org/licenses/old-licenses/fdl-1.2.html",
    "MIT": "https://opensource.org/licenses/MIT",
    "LicenseRef-public-domain": "",
}
# Licence texts copied into LICENSES/: from the system, or from a stand-alone `License:` paragraph of a
# package's debian/copyright. LGPL-3.0 is a set of permissions added to GPL-3.0, so both texts travel together.
SYSTEM_TEXTS = {
    "GPL-2.0.txt": "/usr/share/common-licenses/GPL-2",
    "GPL-3.0.txt": "/usr/share/common-licenses/GPL-3",
    "LGPL-3.0.txt": "/usr/share/common-licenses/LGPL-3",
    "CC0-1.0.txt": "/usr/share/common-licenses/CC0-1.0",
    "GFDL-1.2.txt": "/usr/share/common-licenses/GFDL-1.2",
    "LGPL-2.1.txt": "/usr/share/common-licenses/LGPL-2.1",
}
COPYRIGHT_TEXTS = {  # file in LICENSES/ -> (package, name of the License paragraph in its debian/copyright)
    "CC-BY-4.0.txt": (LOMIRI, "CC-BY-4.0"),
    "CC-BY-SA-4.0.txt": (LOMIRI, "CC-BY-SA-4.0"),
    "CC-BY-SA-3.0.txt": (SCRATCH, "CC-BY-SA-3.0"),
    "BSD-3-Clause.txt": (QTDECL, "BSD-3-clause"),
    "BSD-3-Clause-jscropperui.txt": (CROPPER, "BSD"),
    "MIT-jquery-backstretch.txt": (BACKSTRETCH, "Expat"),
}

RCC = "usr/share/gcompris-qt/rcc"
ACT = "gcompris/src/activities"


@dataclass(frozen=True)
class Pick:
    file: str
    category: str
    subject: list[str]
    people: int
    setting: str
    package: Package
    member: str  # path in the package; "X.rcc!inner/path" for a file inside a Qt resource file
    author: str
    licence: str
    statement: str  # where the package states author and licence
    note: str
    absent: list[str] = field(default_factory=list)
    rotate: int = 0  # degrees clockwise that turn the photo upright (where the source says so)


def _gc(file, category, subject, people, setting, rcc, inner, author, licence, note, absent=()):
    readme = inner.rsplit("/", 1)[0] + "/README"
    return Pick(
        file,
        category,
        subject,
        people,
        setting,
        GCOMPRIS,
        f"{RCC}/{rcc}.rcc!{ACT}/{inner}",
        author,
        licence,
        f"{readme} inside {rcc}.rcc",
        note,
        list(absent),
    )


def _monument(file, category, subject, people, name, author, licence, note, absent=()):
    """A photo of GCompris's explore_monuments activity: its credits are in the activity's resource/README."""
    return Pick(
        file,
        category,
        subject,
        people,
        "outdoors",
        GCOMPRIS,
        f"{RCC}/explore_monuments.rcc!{ACT}/explore_monuments/resource/{name}",
        author,
        licence,
        "explore_monuments/resource/README inside explore_monuments.rcc",
        note,
        list(absent),
    )


def _details(file, category, subject, name, photographer, note, people=0):
    """The background of a GCompris details puzzle: the whole photo (the puzzle's pieces are separate files);
    its README credits the photographer (CC-BY-SA-3.0) and licenses the adapted image CC-BY-SA-4.0."""
    return Pick(
        file,
        category,
        subject,
        people,
        "outdoors",
        GCOMPRIS,
        f"{RCC}/details.rcc!{ACT}/details/resource/image/{name}_background.webp",
        f"{photographer} (photo, CC-BY-SA-3.0); adapted by Bruno Coudoin and others",
        "CC-BY-SA-4.0",
        "details/resource/image/README inside details.rcc",
        note,
    )


_KPA_STATEMENT = (
    "upstream KPhotoAlbum .reuse/dep5 (demo/*.jpg: © 2003-2007 Jesper K. Pedersen, CC-BY-SA-4.0); "
    "debian/copyright: whole package GPL-2+"
)


def _kpa(file, category, subject, people, setting, name, note, absent=(), rotate=0):
    if rotate:
        note += f" — turned upright ({rotate}° clockwise, the angle the album's index.xml gives it)"
    return Pick(
        file,
        category,
        subject,
        people,
        setting,
        KPA,
        f"usr/share/kphotoalbum/demo/{name}",
        "Jesper K. Pedersen",
        "CC-BY-SA-4.0",
        _KPA_STATEMENT,
        note,
        list(absent),
        rotate,
    )


def _lomiri(file, category, subject, people, setting, name, author, licence, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        people,
        setting,
        LOMIRI,
        f"usr/share/backgrounds/{name}",
        author,
        licence,
        "debian/copyright",
        note,
        list(absent),
    )


def _plasma(file, category, subject, people, setting, name, author, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        people,
        setting,
        PLASMA,
        f"usr/share/wallpapers/{name}/contents/images/2560x1600.jpg",
        author,
        "LGPL-3.0-only",
        f"usr/share/wallpapers/{name}/metadata.json",
        note,
        list(absent),
    )


def _stamp(file, category, subject, member, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        0,
        "unknown",
        STAMPS,
        f"usr/share/tuxpaint/stamps/{member}",
        "Tux Paint contributors (package © 2002-2022 Bill Kendrick)",
        "GPL-2.0-or-later",
        "debian/copyright (Files: *)",
        note + " — cut-out on a transparent background, flattened on white",
        list(absent),
    )


_SCRATCH_STATEMENT = (
    "debian/copyright (Files: Help/* Media/* Projects: © 2011 Massachusetts Institute of Technology, CC-BY-SA-3.0)"
)
_SCRATCH_AUTHOR = "Massachusetts Institute of Technology (Scratch 1.4 media)"


def _scratch(file, category, subject, people, setting, member, note, absent=(), cutout=False):
    if cutout:
        note += " — cut-out on a transparent background, flattened on white"
    return Pick(
        file,
        category,
        subject,
        people,
        setting,
        SCRATCH,
        f"usr/share/scratch/Media/{member}",
        _SCRATCH_AUTHOR,
        "CC-BY-SA-3.0",
        _SCRATCH_STATEMENT,
        note,
        list(absent),
    )


_QT = "usr/lib/x86_64-linux-gnu/qt5/examples"


_TAQUIN_STATEMENT = "debian/copyright (Files: data/themes/cats/{name}; see COPYING.themes)"


def _taquin(file, subject, setting, name, author, licence, note):
    return Pick(
        file,
        "pet",
        subject,
        0,
        setting,
        TAQUIN,
        f"usr/share/gnome-taquin/themes/cats/{name}",
        author,
        licence,
        _TAQUIN_STATEMENT.format(name=name),
        note,
        ["dog"],
    )


_LXQT_STATEMENT = (
    "usr/share/lxqt/wallpapers/License (© 2022 LXQt Project Team, CC-BY-SA-3.0; credits stefonarch for this "
    "wallpaper); debian/copyright: Files: * LGPL-2.1+"
)


def _lxqt(file, category, subject, name, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        0,
        "outdoors",
        LXQT,
        f"usr/share/lxqt/wallpapers/{name}",
        "stefonarch (LXQt Project Team)",
        "CC-BY-SA-3.0",
        _LXQT_STATEMENT,
        note,
        list(absent),
    )


_GIMP_STATEMENT = (
    "debian/copyright of gimp-help (/usr/share/doc/gimp-help-common/copyright, the doc folder gimp-help-en links "
    "to): Files: * © The GIMP Documentation Team, GFDL 1.2 or later, no invariant sections"
)


def _gimp(file, category, subject, people, setting, member, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        people,
        setting,
        GIMPHELP,
        f"usr/share/gimp/2.0/help/en/images/{member}",
        "The GIMP Documentation Team",
        "GFDL-1.2-no-invariants-or-later",
        _GIMP_STATEMENT,
        note,
        list(absent),
    )


def _jigsaw(file, category, subject, name, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        0,
        "unknown" if category == "pet" else "outdoors",
        PJIGSAW,
        f"usr/share/puzzle-jigsaw/samples/{name}",
        "Pexels (photographer not named)",
        "CC0-1.0",
        "debian/copyright (Files: samples/*: © 2016-2017 Pexels, CC0-1.0)",
        note,
        list(absent),
    )


def _jqui(file, category, subject, people, member, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        people,
        "outdoors",
        JQUI,
        f"usr/share/doc/libjs-jquery-ui-docs/examples/{member}",
        "jQuery UI authors (debian/copyright: © 2008 Paul Bakaus)",
        "CC0-1.0",
        "debian/copyright (Files: demos/*: CC0; installed as examples/)",
        note,
        list(absent),
    )


def _cropper(file, category, subject, name, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        0,
        "outdoors",
        CROPPER,
        f"usr/share/doc/libjs-cropper/tests/{name}",
        "David Spurr",
        "BSD-3-Clause",
        "debian/copyright (Files: *: © 2006-2011 David Spurr, BSD)",
        note,
        list(absent),
    )


def _backstretch(file, category, subject, setting, name, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        0,
        setting,
        BACKSTRETCH,
        f"usr/share/doc/libjs-jquery-backstretch/examples/{name}",
        "Scott Robbin (jQuery Backstretch)",
        "MIT",
        "debian/copyright (Files: *: © 2012 Scott Robbin, Expat)",
        note,
        list(absent),
    )


def _tuxtemplate(file, category, subject, setting, name, note, absent=()):
    return Pick(
        file,
        category,
        subject,
        0,
        setting,
        TUXPAINT,
        f"usr/share/tuxpaint/templates/{name}",
        "Bill Kendrick",
        "GPL-2.0-or-later",
        "debian/copyright (Files: *) and AUTHORS.txt (Templates: Bill Kendrick)",
        note,
        list(absent),
    )


def _qtrecipe(file, subject, name, note, absent=()):
    return Pick(
        file,
        "food",
        subject,
        0,
        "unknown",
        QTWEB,
        f"{_QT}/webengine/recipebrowser/resources/pages/images/{name}",
        "The Qt Company Ltd.",
        "BSD-3-Clause",
        "debian/copyright (Files: examples/webengine/*: © 2016-2020 The Qt Company Ltd., BSD-3-clause)",
        note,
        list(absent),
    )


_SCRIBUS_STATEMENT = "debian/copyright: templates by Riku Leino placed into the public domain by their author"
_PD = "LicenseRef-public-domain"
_MAN = ["man", "person", "men", "people"]
_WOMAN = ["woman", "person", "lady", "people"]

PICKS: list[Pick] = [
    # --- people (KPhotoAlbum demo album) ---
    _kpa(
        "man-close-up.jpg",
        "person",
        ["man", "person", "face"],
        1,
        "unknown",
        "jesper.jpg",
        "selfie-like close-up of a smiling man's face",
    ),
    _kpa(
        "young-man-smiling.jpg",
        "person",
        ["man", "person", "boy", "face"],
        1,
        "indoors",
        "new_wave_2.jpg",
        "young man grinning into the camera, selfie-like, room behind",
    ),
    _kpa(
        "woman-on-beach.jpg",
        "person",
        _WOMAN,
        1,
        "outdoors",
        "anne_helene.jpg",
        "blonde woman with sunglasses sitting on a sandy beach",
        ["man"],
    ),
    _kpa(
        "man-at-canyon.jpg",
        "person",
        _MAN,
        1,
        "outdoors",
        "grand_canyon_2.jpg",
        "man in a woolly hat in front of the Grand Canyon at dusk",
    ),
    _kpa(
        "couple-with-wine.jpg",
        "people",
        ["couple", "people", "man", "woman", "two people"],
        2,
        "indoors",
        "bar55_2.jpg",
        "man and woman in a bar raising glasses of white wine",
    ),
    _kpa(
        "three-friends.jpg",
        "people",
        ["men", "people", "group", "friends", "three men"],
        3,
        "indoors",
        "qt-logo.jpg",
        "three men showing Qt-logo tattoos on their arms",
    ),
    _kpa(
        "billiards.jpg",
        "sport",
        ["billiards", "pool", "snooker", "pool table", "billiard table"],
        2,
        "indoors",
        "pool.jpg",
        "man leaning over a pool table to take a shot, another man watching",
    ),
    _kpa(
        "dog-on-floor.jpg",
        "animal",
        ["dog", "dogs", "puppy"],
        0,
        "indoors",
        "donna_2.jpg",
        "black dog on a wooden floor looking up at the camera (a person's shoe at the edge)",
        ["cat"],
    ),
    _kpa(
        "dog-in-woods.jpg",
        "animal",
        ["dog", "dogs"],
        0,
        "outdoors",
        "donna.jpg",
        "black dog standing among dead leaves in a winter wood",
        ["cat"],
    ),
    _kpa(
        "rabbit-on-grass.jpg",
        "animal",
        ["rabbit", "rabbits", "bunny", "hare"],
        0,
        "outdoors",
        "spiff.jpg",
        "black-and-white lop-eared rabbit on a lawn",
        ["dog", "cat"],
    ),
    _kpa(
        "planes-at-airport.jpg",
        "vehicle",
        ["plane", "planes", "airplane", "airplanes", "aircraft", "airliner", "airport", "jet"],
        0,
        "outdoors",
        "snow.jpg",
        "airliners parked at a snowy airport, seen from the terminal",
    ),
    _kpa(
        "sunset-over-trees.jpg",
        "landscape",
        ["sunset", "sun", "sky", "dusk"],
        0,
        "outdoors",
        "sunset.jpg",
        "orange sunset over a dark line of trees",
    ),
    _kpa(
        "grand-canyon.jpg",
        "landscape",
        ["canyon", "grand canyon", "valley", "cliff", "cliffs"],
        0,
        "outdoors",
        "grand_canyon_3.jpg",
        "the Grand Canyon in evening light",
    ),
    # --- people and crowds (GCompris, explore_world_music) ---
    _gc(
        "taiko-festival.jpg",
        "crowd",
        ["crowd", "people", "festival", "drummers", "drum", "performance"],
        3,
        "outdoors",
        "explore_world_music",
        "explore_world_music/resource/music/japan.webp",
        "takami torao",
        _PD,
        "night festival: taiko drums on a square lit by lanterns, stalls and a crowd of people",
    ),
    _gc(
        "orchestra.jpg",
        "crowd",
        ["orchestra", "musicians", "people", "concert", "crowd", "group", "performance"],
        3,
        "indoors",
        "explore_world_music",
        "explore_world_music/resource/music/orchestra.webp",
        "ABC Informática",
        _PD,
        "a full orchestra on a concert stage",
    ),
    _gc(
        "mariachi-band.jpg",
        "people",
        ["mariachi", "band", "musicians", "people", "group", "men"],
        3,
        "unknown",
        "explore_world_music",
        "explore_world_music/resource/music/mexico.webp",
        "Elidealista",
        "CC0-1.0",
        "mariachi musicians in white shirts and red bows playing trumpets and a guitar",
    ),
    _gc(
        "opera-singers.jpg",
        "people",
        ["singers", "opera", "people", "group", "actors", "stage"],
        3,
        "indoors",
        "explore_world_music",
        "explore_world_music/resource/music/italy.webp",
        "SoriamuséuM",
        "CC0-1.0",
        "singers in period costume on an opera stage",
    ),
    _gc(
        "folk-musicians.jpg",
        "people",
        ["musicians", "band", "people", "men", "group"],
        3,
        "indoors",
        "explore_world_music",
        "explore_world_music/resource/music/ireland.webp",
        "candyschwartz",
        "CC-BY-2.0",
        "Irish folk musicians playing on a small stage",
    ),
    _gc(
        "drum-kit-and-guitar.jpg",
        "object",
        ["guitar", "electric guitar", "drum", "drums", "drum kit", "drum set"],
        0,
        "indoors",
        "explore_world_music",
        "explore_world_music/resource/music/america.webp",
        "Tom Harpel",
        "CC-BY-2.0",
        "a drum kit and an electric guitar in a rehearsal room",
    ),
    # --- animals (GCompris) ---
    _gc(
        "kitten.jpg",
        "animal",
        ["cat", "cats", "kitten", "kitty"],
        0,
        "outdoors",
        "erase",
        "erase/resource/kitten.webp",
        "GalgenTX",
        "CC-BY-2.0",
        "ginger kitten lying on a wooden step",
        ["dog"],
    ),
    _gc(
        "kitten-playing.jpg",
        "animal",
        ["cat", "cats", "kitten", "kitty"],
        0,
        "indoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/cat.webp",
        "Loliloli",
        _PD,
        "grey-and-white kitten playing with a ball of wool on a red blanket",
        ["dog"],
    ),
    _gc(
        "german-shepherd.jpg",
        "animal",
        ["dog", "dogs", "german shepherd", "shepherd"],
        0,
        "outdoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/dog.webp",
        "Hans Kemperman",
        _PD,
        "German shepherd standing on grass",
        ["cat", "wolf"],
    ),
    _gc(
        "chickens.jpg",
        "animal",
        ["chicken", "chickens", "hen", "hens", "rooster", "poultry"],
        0,
        "outdoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/chicken.webp",
        "Tranquilles",
        _PD,
        "brown hens on a lawn",
    ),
    _gc(
        "cows-in-field.jpg",
        "animal",
        ["cow", "cows", "cattle", "calf", "ox"],
        0,
        "outdoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/cow.webp",
        "Dohduhdah",
        _PD,
        "black-and-white cows in a green pasture",
    ),
    _gc(
        "horses.jpg",
        "animal",
        ["horse", "horses", "pony", "ponies", "foal"],
        0,
        "outdoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/horse.webp",
        "Seth Zeigler",
        "CC0-1.0",
        "a band of dark horses on a hill under a blue sky",
    ),
    _gc(
        "sheep.jpg",
        "animal",
        ["sheep", "lamb", "lambs", "ram", "ewe"],
        0,
        "outdoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/sheep.webp",
        "Rob Mitchell",
        "CC0-1.0",
        "a white sheep standing in a field",
    ),
    _gc(
        "duck.jpg",
        "animal",
        ["duck", "ducks", "bird", "goose"],
        0,
        "outdoors",
        "explore_farm_animals",
        "explore_farm_animals/resource/animals/duck.webp",
        "Bernard Spragg",
        "CC0-1.0",
        "a white Aylesbury duck on the water's edge",
    ),
    _gc(
        "kingfisher.jpg",
        "animal",
        ["kingfisher", "bird", "birds"],
        0,
        "outdoors",
        "erase",
        "erase/resource/kingfisher.webp",
        "Frank-2.0",
        "CC0-1.0",
        "a kingfisher perched on a branch",
    ),
    _gc(
        "swans.jpg",
        "animal",
        ["swan", "swans", "cygnet", "cygnets", "bird", "birds", "goose"],
        0,
        "outdoors",
        "erase",
        "erase/resource/swans.webp",
        "Charles J. Sharp",
        "CC-BY-SA-4.0",
        "mute swans with cygnets on dark water",
    ),
    _gc(
        "squirrel.jpg",
        "animal",
        ["squirrel", "squirrels"],
        0,
        "outdoors",
        "erase",
        "erase/resource/squirrel.webp",
        "Роман Наумов",
        "CC-BY-SA-4.0",
        "red squirrel on a tree trunk",
    ),
    _gc(
        "macaw.jpg",
        "animal",
        ["macaw", "parrot", "bird", "birds"],
        0,
        "outdoors",
        "explore_world_animals",
        "explore_world_animals/resource/animals/scarlet_macaw.webp",
        "Dcoetzee",
        "CC0-1.0",
        "a scarlet macaw (red, blue and yellow parrot)",
    ),
    _gc(
        "goat.jpg",
        "animal",
        ["goat", "goats"],
        0,
        "outdoors",
        "erase",
        "erase/resource/goat.webp",
        "JoachimKohlerBremen",
        "CC-BY-SA-4.0",
        "black-and-white long-haired goat in the mountains",
    ),
    # --- food, drink, objects, buildings (GCompris categorization) ---
    _gc(
        "cup-and-saucer.jpg",
        "object",
        ["cup", "cups", "teacup", "saucer", "mug"],
        0,
        "unknown",
        "categorization",
        "categorization/resource/images/others/cup.webp",
        "FA2010",
        _PD,
        "an empty cream-coloured porcelain cup on its saucer",
    ),
    _gc(
        "chair.jpg",
        "object",
        ["chair", "chairs", "seat"],
        0,
        "indoors",
        "categorization",
        "categorization/resource/images/others/chair.webp",
        "Pierre Gencey",
        _PD,
        "a white wooden chair",
    ),
    _gc(
        "frying-pan.jpg",
        "kitchen",
        ["pan", "frying pan", "skillet", "wok", "kitchen", "stove"],
        0,
        "indoors",
        "categorization",
        "categorization/resource/images/others/pan.webp",
        "Suricata",
        _PD,
        "a cast-iron frying pan on a stove",
    ),
    _gc(
        "volleyball.jpg",
        "sport",
        ["volleyball", "ball", "volleyballs"],
        0,
        "unknown",
        "categorization",
        "categorization/resource/images/others/volleyball.webp",
        "Amada44",
        _PD,
        "a beach volleyball",
    ),
    _gc(
        "baseball.jpg",
        "sport",
        ["baseball", "ball", "baseballs"],
        0,
        "unknown",
        "categorization",
        "categorization/resource/images/others/baseball.webp",
        "Cody escadron delta",
        _PD,
        "close-up of a baseball with red stitching",
    ),
    _gc(
        "eiffel-tower.jpg",
        "building",
        ["eiffel tower", "tower", "towers"],
        3,
        "outdoors",
        "categorization",
        "categorization/resource/images/monuments/eiffelTower.webp",
        "Alex Liivet",
        "CC0-1.0",
        "the Eiffel Tower seen from the Champ de Mars, small figures of visitors on the path",
    ),
    _gc(
        "skyscrapers.jpg",
        "building",
        ["skyscraper", "skyscrapers", "building", "buildings", "tower", "towers", "empire state building"],
        0,
        "outdoors",
        "categorization",
        "categorization/resource/images/monuments/empireState.webp",
        "Alex Liivet",
        "CC0-1.0",
        "the Empire State Building between New York skyscrapers",
    ),
    _gc(
        "palace-at-night.jpg",
        "night_city",
        ["palace", "building", "buildings", "night", "city"],
        0,
        "outdoors",
        "categorization",
        "categorization/resource/images/monuments/zimniPalace.webp",
        "AndreyA",
        _PD,
        "the Winter Palace in Saint Petersburg lit up at night",
    ),
    _gc(
        "brandenburg-gate.jpg",
        "building",
        ["gate", "brandenburg gate", "monument", "building", "columns"],
        3,
        "outdoors",
        "categorization",
        "categorization/resource/images/monuments/brandenburgGate.webp",
        "Evans1551",
        _PD,
        "the Brandenburg Gate in Berlin at dusk, small figures of people walking under it",
    ),
    # --- Palapeli puzzles ---
    Pick(
        "citrus-fruits.jpg",
        "food",
        ["fruit", "fruits", "orange", "oranges", "lemon", "lemons", "lime", "limes", "citrus", "grapefruit"],
        0,
        "unknown",
        PALAPELI,
        "usr/share/palapeli/collection/citrus-fruits.jpg",
        "US Department of Agriculture",
        _PD,
        "usr/share/palapeli/collection/citrus-fruits.desktop",
        "slices of oranges, lemons and limes",
    ),
    Pick(
        "bee-on-aster.jpg",
        "animal",
        ["bee", "bees", "honeybee", "honey bee", "insect"],
        0,
        "outdoors",
        PALAPELI,
        "usr/share/palapeli/collection/european-honey-bee.jpg",
        "John Severns",
        _PD,
        "usr/share/palapeli/collection/european-honey-bee.desktop",
        "a honey bee on a purple aster flower",
    ),
    Pick(
        "bridge-at-night.jpg",
        "night_city",
        ["bridge", "suspension bridge", "night", "city", "river"],
        0,
        "outdoors",
        PALAPELI,
        "usr/share/palapeli/collection/cincinnati-bridge.jpg",
        "Derek Jensen",
        _PD,
        "usr/share/palapeli/collection/cincinnati-bridge.desktop",
        "the Roebling suspension bridge in Cincinnati lit up at night",
    ),
    # --- Scribus templates ---
    Pick(
        "shrimp-dinner.jpg",
        "food",
        ["shrimp", "shrimps", "prawns", "meal", "dish", "plate", "food", "dinner", "broccoli"],
        0,
        "unknown",
        SCRIBUS,
        "usr/share/scribus/templates/menu1/teriyaki.png",
        "Riku Leino",
        _PD,
        _SCRIBUS_STATEMENT,
        "a plate of teriyaki shrimp with broccoli",
    ),
    Pick(
        "pizza.jpg",
        "food",
        ["pizza", "pizzas"],
        0,
        "unknown",
        SCRIBUS,
        "usr/share/scribus/templates/menu2/pizza.jpg",
        "Riku Leino",
        _PD,
        _SCRIBUS_STATEMENT,
        "a whole pizza on a plate",
    ),
    Pick(
        "skyline-at-dusk.jpg",
        "night_city",
        ["city", "skyline", "dusk", "sunset", "buildings"],
        0,
        "outdoors",
        SCRIBUS,
        "usr/share/scribus/templates/br2/sunset.jpg",
        "Riku Leino",
        _PD,
        _SCRIBUS_STATEMENT,
        "a city skyline silhouetted against a red dusk sky, reflected in water",
    ),
    # --- wallpapers ---
    _lomiri(
        "living-room.jpg",
        "room",
        ["room", "living room", "lounge", "interior"],
        0,
        "indoors",
        "Wine_by_Jakkub_Mede.jpg",
        "Jakub Mede",
        "CC-BY-4.0",
        "living room corner: wine bottle on a low table, a drum on a beanbag, a speaker",
    ),
    _lomiri(
        "dogs-at-window.jpg",
        "animal",
        ["dog", "dogs", "spaniel", "spaniels"],
        0,
        "outdoors",
        "friends_by_Aitzol_Berasategi.jpg",
        "Aitzol Berasategi",
        "CC-BY-4.0",
        "two spaniels looking out of a window of a wooden house",
        ["cat"],
    ),
    _lomiri(
        "fig-in-bowl.jpg",
        "food",
        ["fig", "figs", "fruit", "bowl"],
        0,
        "unknown",
        "Picture_0B_by_freespace.jpg",
        'Trevor "Freespace"',
        "CC-BY-4.0",
        "half a fig in a red bowl",
    ),
    _lomiri(
        "wall-clock.jpg",
        "object",
        ["clock", "wall clock", "clocks"],
        0,
        "indoors",
        "greentock_by_Peter_Nerlich.jpg",
        "Peter Nerlich",
        "CC-BY-SA-4.0",
        "close-up of a white wall clock",
    ),
    _plasma(
        "colourful-cups.jpg",
        "object",
        ["cup", "cups", "plastic cups", "mugs"],
        0,
        "unknown",
        "ColorfulCups",
        "Dmitri Popov",
        "rows of colourful plastic cups seen from above",
    ),
    _plasma(
        "rowing-boats.jpg",
        "vehicle",
        ["boat", "boats", "rowing boat", "rowing boats", "canoe", "canoes"],
        0,
        "outdoors",
        "EveningGlow",
        "Ian Hex",
        "wooden rowing boats on a lake shore at sunset",
    ),
    Pick(
        "yellow-flower.jpg",
        "plant",
        ["flower", "flowers", "daisy", "yellow flower", "petals"],
        0,
        "outdoors",
        MATE,
        "usr/share/backgrounds/mate/nature/YellowFlower.jpg",
        "Charles Barbin",
        "GPL-2.0-or-later",
        "debian/copyright",
        "close-up of a yellow flower",
    ),
    Pick(
        "ladybird-on-flowers.jpg",
        "plant",
        ["flower", "flowers", "forget-me-not", "ladybird", "ladybug"],
        0,
        "outdoors",
        MATE,
        "usr/share/backgrounds/mate/nature/LadyBird.jpg",
        "Charles Barbin",
        "GPL-2.0-or-later",
        "debian/copyright",
        "blue forget-me-nots with a ladybird on a leaf",
    ),
    # --- Tux Paint ---
    Pick(
        "lighthouse.jpg",
        "building",
        ["lighthouse", "tower"],
        0,
        "outdoors",
        TUXPAINT,
        "usr/share/tuxpaint/templates/lighthouse.jpg",
        "Bill Kendrick",
        "GPL-2.0-or-later",
        "debian/copyright (Files: *) and AUTHORS.txt (Templates: Bill Kendrick)",
        "a red-brick lighthouse against a blue sky",
    ),
    Pick(
        "sheep-pasture.jpg",
        "landscape",
        ["sheep", "field", "pasture", "meadow", "grassland", "flock"],
        0,
        "outdoors",
        TUXPAINT,
        "usr/share/tuxpaint/templates/sheep.jpg",
        "Bill Kendrick",
        "GPL-2.0-or-later",
        "debian/copyright (Files: *) and AUTHORS.txt (Templates: Bill Kendrick)",
        "a wide pasture with a flock of sheep under a blue sky",
    ),
    Pick(
        "ocean-waves.jpg",
        "landscape",
        ["sea", "ocean", "wave", "waves", "beach", "surf"],
        0,
        "outdoors",
        TUXPAINT,
        "usr/share/tuxpaint/templates/ocean_waves.jpg",
        "Bill Kendrick",
        "GPL-2.0-or-later",
        "debian/copyright (Files: *) and AUTHORS.txt (Templates: Bill Kendrick)",
        "a green wave breaking on the shore",
    ),
    _stamp(
        "car.jpg",
        "vehicle",
        ["car", "cars", "sedan", "automobile"],
        "vehicles/auto/sedan.png",
        "a blue saloon car seen from the side",
    ),
    _stamp(
        "bus.jpg",
        "vehicle",
        ["bus", "buses", "coach"],
        "vehicles/masstransit/green_korean_bus.png",
        "a green city bus seen from the side",
    ),
    _stamp(
        "teddy-bear.jpg",
        "object",
        ["teddy", "teddy bear", "bear", "toy", "toys"],
        "animals/mammals/bears/toys/edward_bear.png",
        "an old teddy bear",
    ),
    # --- Scratch 1.4 media ---
    _scratch(
        "kitchen.jpg",
        "kitchen",
        ["kitchen", "kitchens", "stove", "oven", "cooker"],
        0,
        "indoors",
        "Backgrounds/Indoors/kitchen.jpg",
        "a kitchen: a white cooker and a white dishwasher under wooden cupboards, open shelves with jars above",
    ),
    _scratch(
        "boy.jpg",
        "child",
        ["boy", "child", "kid", "children", "kids", "boys", "person"],
        1,
        "unknown",
        "Costumes/People/sam.gif",
        "a smiling boy in a navy tracksuit jacket spreading his arms",
        ["woman"],
        cutout=True,
    ),
    _scratch(
        "bicycle.jpg",
        "vehicle",
        ["bicycle", "bike", "bicycles", "bikes", "cycle"],
        0,
        "unknown",
        "Costumes/Transportation/bike.gif",
        "a lowrider bicycle with a blue frame and gold wheels seen from the side",
        ["car", "motorcycle"],
        cutout=True,
    ),
    # --- Qt example photos ---
    Pick(
        "cupcakes.jpg",
        "food",
        ["cupcake", "cupcakes", "cake", "cakes", "muffin", "muffins", "dessert"],
        0,
        "unknown",
        QTWEB,
        f"{_QT}/webengine/recipebrowser/resources/pages/images/cupcakes.jpg",
        "The Qt Company Ltd.",
        "BSD-3-Clause",
        "debian/copyright (Files: examples/webengine/*: © 2016-2020 The Qt Company Ltd., BSD-3-clause)",
        "cupcakes with white icing on a tiered wire stand",
    ),
    Pick(
        "pancakes.jpg",
        "food",
        ["pancake", "pancakes", "banana", "dessert", "breakfast", "crepe", "crepes"],
        0,
        "unknown",
        QTDECL,
        f"{_QT}/quick/views/listview/content/pics/pancakes.jpg",
        "The Qt Company Ltd.",
        "BSD-3-Clause",
        "debian/copyright (Files: examples/*: © 2016-2021 The Qt Company Ltd., BSD-3-clause)",
        "a stack of pancakes topped with banana slices on a white plate",
    ),
    # --- more from the KPhotoAlbum demo album (turned upright as its index.xml says) ---
    _kpa(
        "friends-in-a-bar.jpg",
        "people",
        ["people", "couple", "friends", "man", "woman", "group", "bar", "pub"],
        3,
        "indoors",
        "bar55.jpg",
        "a woman and a man hugging at a bar table, more people in the crowded bar behind",
    ),
    _kpa(
        "friends-at-the-seaside.jpg",
        "people",
        ["people", "man", "men", "friends", "group", "beach", "sea", "seaside"],
        3,
        "outdoors",
        "cold_water.jpg",
        "a man in a black sweatshirt spreading his arms in shallow sea water, friends wading beside him",
    ),
    _kpa(
        "couple-at-grand-canyon.jpg",
        "people",
        ["couple", "people", "man", "woman", "two people", "tourists"],
        2,
        "outdoors",
        "grand_canyon_1.jpg",
        "a man and a woman in a white jacket posing at the rim of the Grand Canyon in low evening sun",
        rotate=180,
    ),
    _kpa(
        "man-talking.jpg",
        "person",
        ["man", "person", "face", "men"],
        1,
        "indoors",
        "jesper_2.jpg",
        "portrait of a man in a dark jacket talking to the camera in a doorway",
        ["woman"],
    ),
    _kpa(
        "young-man-in-a-cabinet.jpg",
        "person",
        ["man", "person", "boy", "young man"],
        1,
        "indoors",
        "new_wave_1.jpg",
        "a young man in black crouching inside an open metal cabinet, raising a can",
        rotate=90,
    ),
    _kpa(
        "playing-pool.jpg",
        "sport",
        ["pool", "billiards", "pool table", "billiard table", "snooker", "cue"],
        1,
        "indoors",
        "pool_2.jpg",
        "a man aiming his cue at the balls on a green pool table in a dark bar",
        rotate=270,
    ),
    _kpa(
        "two-men-playing-pool.jpg",
        "sport",
        ["pool", "billiards", "pool table", "billiard table", "snooker", "men", "people"],
        2,
        "indoors",
        "wayne.jpg",
        "two men with cues at a pool table in a pub with wooden walls",
        rotate=90,
    ),
    _kpa(
        "rough-sea.jpg",
        "landscape",
        ["sea", "ocean", "waves", "water"],
        0,
        "outdoors",
        "skagen.jpg",
        "choppy grey-green sea under a cloudy sky",
    ),
    _kpa(
        "coast-from-a-plane.jpg",
        "landscape",
        ["coast", "coastline", "sea", "aerial view", "peninsula", "beach", "shore"],
        0,
        "outdoors",
        "skagen_2.jpg",
        "a long sandy spit of land between blue sea, seen from a plane",
    ),
    _kpa(
        "rabbit-in-a-box.jpg",
        "pet",
        ["rabbit", "rabbits", "bunny", "pet"],
        0,
        "indoors",
        "spiff_2.jpg",
        "a black-and-white rabbit sitting in a cardboard box in a crate",
        ["dog", "cat"],
    ),
    # --- GCompris: wild animals (capped: GCompris already gives many) ---
    _gc(
        "camels.jpg",
        "animal",
        ["camel", "camels", "bactrian camel"],
        0,
        "outdoors",
        "erase",
        "erase/resource/camels.webp",
        "Alexandr frolov",
        "CC-BY-SA-4.0",
        "a Bactrian camel and its calf on a dry steppe",
        ["horse"],
    ),
    _gc(
        "meerkats.jpg",
        "animal",
        ["meerkat", "meerkats", "suricate", "suricates"],
        0,
        "outdoors",
        "erase",
        "erase/resource/meerkats.webp",
        "Charles J. Sharp",
        "CC-BY-SA-4.0",
        "three meerkats standing upright on red sand",
    ),
    _gc(
        "giraffes.jpg",
        "animal",
        ["giraffe", "giraffes"],
        0,
        "outdoors",
        "explore_world_animals",
        "explore_world_animals/resource/animals/giraffe.webp",
        "Mike and Lara Wolfe",
        "CC0-1.0",
        "two giraffes among savanna trees",
    ),
    _gc(
        "koala.jpg",
        "animal",
        ["koala", "koalas", "koala bear"],
        0,
        "outdoors",
        "explore_world_animals",
        "explore_world_animals/resource/animals/koala.webp",
        "BurningWell",
        _PD,
        "a koala sitting in the fork of a eucalyptus tree",
    ),
    _gc(
        "giant-panda.jpg",
        "animal",
        ["panda", "pandas", "giant panda", "bear"],
        0,
        "outdoors",
        "explore_world_animals",
        "explore_world_animals/resource/animals/panda.webp",
        "Jeff Kubina",
        _PD,
        "a giant panda sitting on a rock",
    ),
    _gc(
        "polar-bear.jpg",
        "animal",
        ["polar bear", "bear", "bears", "polar bears"],
        0,
        "outdoors",
        "explore_world_animals",
        "explore_world_animals/resource/animals/polar_bear.webp",
        "anonymous",
        _PD,
        "a polar bear walking on snowy ground among shrubs",
    ),
    # --- GNOME Taquin: the cats theme ---
    _taquin(
        "tabby-and-white-cat.jpg",
        ["cat", "cats", "kitten", "kitty", "tabby", "pet"],
        "unknown",
        "1-Cat_face_day.jpg",
        "Abelard (Wikimedia Commons)",
        "CC-BY-SA-3.0",
        "face of a tabby-and-white cat looking into the camera",
    ),
    _taquin(
        "grey-cat-looking-up.jpg",
        ["cat", "cats", "kitty", "grey cat", "pet"],
        "unknown",
        "1-Jasmina.jpg",
        "Ruskis (Wikimedia Commons)",
        "CC-BY-SA-3.0",
        "a grey short-haired cat looking up, dark background",
    ),
    _taquin(
        "calico-cat.jpg",
        ["cat", "cats", "kitten", "kitty", "calico", "pet"],
        "indoors",
        "1-Tortoiseshell.jpg",
        "Toyah (Wikimedia Commons)",
        _PD,
        "a white, grey and ginger cat crouching on a wooden step indoors",
    ),
    _taquin(
        "maine-coon-cat.jpg",
        ["cat", "cats", "kitty", "maine coon", "pet"],
        "outdoors",
        "1-maine.jpg",
        "Mueller-rech.muenchen (Wikimedia Commons)",
        "CC-BY-SA-3.0",
        "a long-haired Maine Coon cat's face in front of green leaves",
    ),
    _taquin(
        "tabby-cat-portrait.jpg",
        ["cat", "cats", "kitty", "tabby", "pet"],
        "unknown",
        "1-march.jpg",
        "Alvesgaspar (Wikimedia Commons)",
        "CC-BY-SA-3.0",
        "head and shoulders of a brown tabby cat on a white background",
    ),
    # --- LXQt wallpapers by stefonarch ---
    _lxqt(
        "meadow-flowers.jpg",
        "plant",
        ["flower", "flowers", "meadow", "wildflowers", "cornflowers"],
        "flowers.png",
        "blue and pink wildflowers in a meadow",
    ),
    _lxqt(
        "swallowtail-butterfly.jpg",
        "animal",
        ["butterfly", "butterflies", "insect", "swallowtail"],
        "butterfly.png",
        "a swallowtail butterfly on a purple flower head, dark background",
        ["bird"],
    ),
    _lxqt(
        "fog-over-a-field.jpg",
        "landscape",
        ["fog", "mist", "field", "hill", "hills", "farmland", "landscape"],
        "fog.jpg",
        "fog drifting over a ploughed field and a wooded hill under a blue sky",
    ),
    _lxqt(
        "apple-blossom.jpg",
        "plant",
        ["blossom", "blossoms", "flower", "flowers", "apple blossom", "twig"],
        "appleflower.png",
        "a twig with pink apple blossom buds against a blurred green background",
    ),
    _lxqt(
        "clouds-at-sunset.jpg",
        "landscape",
        ["sunset", "clouds", "cloud", "sky", "dusk"],
        "after-the-rain.jpg",
        "dark clouds lit orange by the setting sun over black hills",
    ),
    _lxqt(
        "dew-drop-on-grass.jpg",
        "plant",
        ["grass", "drop", "dew", "dewdrop", "water drop", "raindrop", "blade of grass"],
        "drop.png",
        "a single water drop hanging from a bent blade of grass",
    ),
    # --- GIMP user manual: example photos ---
    _gimp(
        "mallard-on-grass.jpg",
        "animal",
        ["duck", "ducks", "mallard", "bird", "birds"],
        0,
        "outdoors",
        "tutorials/quickie-crop-example-source.jpg",
        "a female mallard duck resting on grass at the water's edge",
    ),
    _gimp(
        "soldiers-in-red-uniforms.jpg",
        "people",
        ["soldiers", "soldier", "men", "people", "guards", "uniforms", "group", "troops"],
        3,
        "outdoors",
        "tutorials/quickie-flip-example-source.jpg",
        "five men in red tunics, kilts and white helmets standing in line at a historical show, tents behind",
    ),
    _gimp(
        "stained-glass-window.jpg",
        "object",
        ["stained glass", "window", "glass", "church window"],
        0,
        "unknown",
        "tutorials/quickie-rotate-example-source.jpg",
        "a small arched stained-glass window set in a stone wall",
    ),
    _gimp(
        "vintage-red-car.jpg",
        "vehicle",
        ["car", "cars", "vintage car", "classic car", "old car", "automobile", "roadster"],
        0,
        "outdoors",
        "tutorials/quickie-jpeg-example.jpg",
        "a red 1930s open-top car parked on a drive, another classic car behind",
    ),
    _gimp(
        "castle-on-a-rock.jpg",
        "building",
        ["castle", "fortress", "building", "edinburgh castle"],
        0,
        "outdoors",
        "tutorials/quickie-scale-example.jpg",
        "Edinburgh Castle on its rock above trees, blue sky with white clouds",
    ),
    _gimp(
        "pickup-truck-in-an-orchard.jpg",
        "vehicle",
        ["truck", "pickup", "pickup truck", "pick-up", "vehicle", "car"],
        0,
        "outdoors",
        "tutorials/tone-mapping/apple-orchard-truck-from-camera.jpg",
        "a dark blue pickup truck parked in an apple orchard, a hill behind",
    ),
    _gimp(
        "power-lines.jpg",
        "landscape",
        ["power lines", "power line", "pylon", "pylons", "utility pole", "poles", "field"],
        0,
        "outdoors",
        "tutorials/tone-mapping/power-lines.jpg",
        "power lines and pylons along a grassy field and a row of trees",
    ),
    _gimp(
        "taj-mahal.jpg",
        "building",
        ["taj mahal", "mausoleum", "building", "palace", "monument", "mosque"],
        3,
        "outdoors",
        "filters/examples/taj_orig.jpg",
        "the Taj Mahal and its garden, small figures of visitors on the path",
    ),
    _gimp(
        "chamomile-flowers.jpg",
        "plant",
        ["daisy", "daisies", "flower", "flowers", "chamomile"],
        0,
        "outdoors",
        "filters/examples/distort/spherize-ex-orig.jpg",
        "a mass of white chamomile flowers with yellow centres",
    ),
    _gimp(
        "ducklings-in-grass.jpg",
        "animal",
        ["duck", "ducks", "duckling", "ducklings", "bird", "birds"],
        0,
        "outdoors",
        "using/duck_orig.png",
        "three young ducks sitting in green grass",
    ),
    # --- puzzle-jigsaw samples ---
    _jigsaw(
        "blue-eyed-cat.jpg",
        "pet",
        ["cat", "cats", "kitty", "pet"],
        "cat-animal-cat-portrait-mackerel.jpg",
        "close-up of a grey long-haired cat's face with blue eyes, nearly black and white",
    ),
    _jigsaw(
        "tiger-in-snow.jpg",
        "animal",
        ["tiger", "tigers", "big cat"],
        "pexels-photo-302304.jpeg",
        "a tiger walking through snow towards the camera",
        ["cat", "lion"],
    ),
    # --- jQuery UI demos ---
    _jqui(
        "mountain-peaks.jpg",
        "landscape",
        ["mountain", "mountains", "peak", "peaks", "valley", "rocks"],
        0,
        "droppable/images/high_tatras.jpg",
        "rocky peaks of the High Tatras seen from a steep valley, blue sky",
    ),
    _jqui(
        "mountain-hut.jpg",
        "building",
        ["hut", "chalet", "mountain hut", "lodge", "house", "building", "cabin"],
        0,
        "droppable/images/high_tatras2.jpg",
        "a yellow mountain hut in a rocky valley of the High Tatras",
    ),
    _jqui(
        "hikers-in-a-valley.jpg",
        "landscape",
        ["mountain", "mountains", "valley", "hikers", "hiker", "hiking", "people"],
        3,
        "droppable/images/high_tatras3.jpg",
        "three hikers with rucksacks on a stony path in a green mountain valley",
    ),
    _jqui(
        "hikers-on-a-summit.jpg",
        "people",
        ["hikers", "hiker", "climbers", "people", "men", "group", "hiking"],
        3,
        "droppable/images/high_tatras4.jpg",
        "three hikers, two standing and one sitting, on a rocky mountain top under grey clouds",
    ),
    # --- jsCropperUI test photos ---
    _cropper(
        "castle-behind-daisies.jpg",
        "building",
        ["castle", "fortress", "fort", "building", "daisies"],
        "castleMed.jpg",
        "a castle on a green hill behind a field of daisies, blue sky with clouds",
    ),
    _cropper(
        "red-poppies.jpg",
        "plant",
        ["poppy", "poppies", "flower", "flowers"],
        "poppy.jpg",
        "red poppies and buds against a pale blue sky",
    ),
    # --- jQuery Backstretch examples ---
    _backstretch(
        "lighthouse-on-cliffs.jpg",
        "landscape",
        ["cliff", "cliffs", "coast", "sea", "ocean", "lighthouse", "headland"],
        "outdoors",
        "sample2_1280.jpg",
        "sea cliffs in golden evening light, a white lighthouse on the headland",
    ),
    _backstretch(
        "glass-dome-roof.jpg",
        "building",
        ["dome", "roof", "glass roof", "ceiling", "building", "architecture", "skylight"],
        "indoors",
        "dome.jpg",
        "a steel-and-glass lattice dome seen from below",
    ),
    _backstretch(
        "coffee-filter.jpg",
        "drink",
        ["coffee", "coffee maker", "coffee machine", "coffee filter", "filter"],
        "unknown",
        "coffee.jpg",
        "top view of a coffee maker's filter basket with used coffee grounds and a spoon",
    ),
    # --- libvips documentation ---
    Pick(
        "owl-on-a-stump.jpg",
        "animal",
        ["owl", "owls", "bird", "birds", "owlet"],
        0,
        "outdoors",
        VIPSDOC,
        "usr/share/gtk-doc/html/libvips/owl.jpg",
        "John Cupitt and libvips contributors",
        "LGPL-2.1-only",
        "debian/copyright (Files: *: © John Cupitt, LGPL-2.1)",
        "a small brown owl perched on a mossy stump, blurred green-brown background",
    ),
    # --- more Scratch 1.4 backgrounds ---
    _scratch(
        "clothing-store.jpg",
        "room",
        ["store", "shop", "clothing store", "clothes", "clothing", "boutique"],
        0,
        "indoors",
        "Backgrounds/Indoors/clothing-store.jpg",
        "inside a clothing store: racks of clothes on both sides of an aisle",
    ),
    _scratch(
        "cinema-lobby.jpg",
        "room",
        ["cinema", "movie theater", "movie theatre", "theater", "theatre", "lobby", "foyer"],
        0,
        "indoors",
        "Backgrounds/Indoors/the-movies-inside.jpg",
        "a cinema lobby with a snack counter, film posters and patterned carpet",
    ),
    _scratch(
        "sandy-beach.jpg",
        "landscape",
        ["beach", "sand", "sea", "ocean", "coast", "shore"],
        0,
        "outdoors",
        "Backgrounds/Nature/beach-malibu.jpg",
        "an empty sandy beach and blue sea, a hilly coast in the distance",
    ),
    _scratch(
        "zinnias.jpg",
        "plant",
        ["flower", "flowers", "zinnia", "zinnias"],
        0,
        "outdoors",
        "Backgrounds/Nature/flowers.gif",
        "red and coral zinnia flowers close up",
    ),
    _scratch(
        "birch-forest.jpg",
        "landscape",
        ["forest", "trees", "tree", "woods", "birch", "birches", "wood"],
        0,
        "outdoors",
        "Backgrounds/Nature/forest.jpg",
        "rows of slim white tree trunks in a misty green wood",
    ),
    _scratch(
        "pond-in-the-woods.jpg",
        "landscape",
        ["pond", "lake", "trees", "woods", "forest", "water"],
        0,
        "outdoors",
        "Backgrounds/Nature/lake.jpg",
        "a still brown pond in front of a wood of slender trees",
    ),
    _scratch(
        "forest-stream.jpg",
        "landscape",
        ["stream", "river", "creek", "brook", "rocks", "water", "woods"],
        0,
        "outdoors",
        "Backgrounds/Nature/water-and-rocks.jpg",
        "a shallow stream over rocks in a green wood",
    ),
    _scratch(
        "boardwalk-by-the-sea.jpg",
        "landscape",
        ["sea", "ocean", "boardwalk", "pier", "deck", "bay", "coast"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/boardwalk.jpg",
        "a wooden boardwalk by a calm bay, islands on the horizon",
    ),
    _scratch(
        "bench-with-a-view.jpg",
        "object",
        ["bench", "park bench", "benches"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/bench-with-view.jpg",
        "a park bench on a terrace above a town and the sea",
    ),
    _scratch(
        "playground.jpg",
        "object",
        ["playground", "climbing frame", "jungle gym", "climbing net", "play area"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/atom-playground.jpg",
        "a colourful climbing frame on a blue playground in front of a brick building",
    ),
    _scratch(
        "modern-building.jpg",
        "building",
        ["building", "buildings", "dormitory", "architecture", "facade"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/building-at-mit.jpg",
        "a large grey modern building with many small windows behind a lawn",
    ),
    _scratch(
        "brick-warehouse.jpg",
        "building",
        ["building", "warehouse", "brick building", "factory", "wall"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/building-fireproof.jpg",
        "an old red-brick warehouse with FIRE PROOF painted on it, a street in front",
    ),
    _scratch(
        "papal-palace.jpg",
        "building",
        ["palace", "castle", "building", "fortress", "cathedral"],
        3,
        "outdoors",
        "Backgrounds/Outdoors/castle.jpg",
        "the Palais des Papes in Avignon, small figures of people on the square",
    ),
    _scratch(
        "city-skyline-at-night.jpg",
        "night_city",
        ["city", "skyline", "night", "buildings", "skyscrapers", "river"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/city-with-water.jpg",
        "a city skyline lit up at night across a river, the moon above",
    ),
    _scratch(
        "city-across-the-river.jpg",
        "building",
        ["city", "skyline", "buildings", "skyscrapers", "river"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/city-with-water2.jpg",
        "a city skyline across a wide river on a sunny day",
    ),
    _scratch(
        "stone-arcade.jpg",
        "building",
        ["arcade", "colonnade", "corridor", "hallway", "arches", "cloister"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/hallway_outdoors.jpg",
        "a long sandstone arcade with round arches and hanging lamps",
    ),
    _scratch(
        "hay-bales-in-a-field.jpg",
        "landscape",
        ["field", "hay", "hay bales", "bales", "farmland", "meadow"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/hay_field.jpg",
        "round hay bales on a golden field under a blue sky",
    ),
    _scratch(
        "mansion.jpg",
        "building",
        ["mansion", "building", "house", "manor", "college"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/mansion.jpg",
        "a large stone Tudor-style mansion behind a lawn and trees",
    ),
    _scratch(
        "route-66.jpg",
        "street",
        ["road", "highway", "street", "route 66", "route"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/route66.jpg",
        "a wide empty highway with a Route 66 sign under a cloudy sky",
    ),
    _scratch(
        "cinema-entrance.jpg",
        "building",
        ["cinema", "movie theater", "movie theatre", "theater", "building", "entrance"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/the-movies.jpg",
        "the glass entrance of a cinema on a red-brick square",
    ),
    _scratch(
        "railway-through-a-valley.jpg",
        "landscape",
        ["railway", "railroad", "train tracks", "tracks", "rails", "valley"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/train-tracks1.jpg",
        "railway tracks running through a dry mountain valley",
    ),
    _scratch(
        "old-wooden-shed.jpg",
        "building",
        ["shed", "hut", "cabin", "house", "barn", "building"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/wooden-house.jpg",
        "an old weathered wooden shed with an open door",
    ),
    _scratch(
        "baseball-stadium.jpg",
        "sport",
        ["baseball", "stadium", "ballpark", "baseball field", "crowd"],
        3,
        "outdoors",
        "Backgrounds/Sports/baseball-field.jpg",
        "a baseball diamond in a stadium, a crowd filling the stands",
    ),
    _scratch(
        "basketball-court.jpg",
        "sport",
        ["basketball", "basketball court", "court", "hoop", "basket"],
        0,
        "outdoors",
        "Backgrounds/Sports/basketball-court1-a.jpg",
        "an outdoor basketball court and hoop in front of a brick building",
    ),
    _scratch(
        "american-football-stadium.jpg",
        "sport",
        ["football", "american football", "stadium", "football field", "crowd"],
        3,
        "outdoors",
        "Backgrounds/Sports/football-field.jpg",
        "a football field with players on the sideline and a packed stadium",
    ),
    _scratch(
        "football-pitch.jpg",
        "sport",
        ["field", "football field", "soccer field", "pitch", "playing field", "park"],
        0,
        "outdoors",
        "Backgrounds/Sports/playing-field.jpg",
        "an empty grass football pitch with white lines, trees behind",
    ),
    # --- more Tux Paint templates and photo stamps ---
    _tuxtemplate(
        "jellyfish.jpg",
        "animal",
        ["jellyfish", "jellyfishes", "jellies", "sea creature"],
        "unknown",
        "jellyfish.jpg",
        "glowing blue jellyfish in dark water",
    ),
    _tuxtemplate(
        "machine-gears.jpg",
        "object",
        ["machine", "gears", "gear", "cogs", "machinery", "engine"],
        "indoors",
        "wool_mill_machine.jpg",
        "the gears of an old wool-mill machine",
    ),
    _tuxtemplate(
        "cornfield.jpg",
        "plant",
        ["corn", "maize", "cornfield", "corn field", "plants"],
        "outdoors",
        "corn_maze.jpg",
        "a path between tall corn plants",
    ),
    _tuxtemplate(
        "rocky-cliff.jpg",
        "landscape",
        ["cliff", "rock", "rocks", "crag", "mountain"],
        "outdoors",
        "cliff.jpg",
        "a grey rock face under a blue sky",
    ),
    _tuxtemplate(
        "bare-tree-at-dusk.jpg",
        "landscape",
        ["tree", "trees", "branches", "dusk", "sky", "twilight"],
        "outdoors",
        "trees_at_dusk.jpg",
        "bare black tree branches against a pink and blue evening sky",
    ),
    _tuxtemplate(
        "sun-behind-clouds.jpg",
        "landscape",
        ["cloud", "clouds", "sky", "sun"],
        "outdoors",
        "sun_behind_clouds.jpg",
        "the sun shining from behind a white cloud in a deep blue sky",
    ),
    _stamp(
        "jumbo-jet.jpg",
        "vehicle",
        ["plane", "airplane", "aeroplane", "jet", "airliner", "aircraft", "jumbo jet"],
        "vehicles/flight/planes/747.png",
        "a Boeing 747 in flight seen from the side",
    ),
    _stamp(
        "hot-air-balloon.jpg",
        "vehicle",
        ["balloon", "hot air balloon", "hot-air balloon"],
        "vehicles/flight/balloon360.png",
        "a striped hot-air balloon with its basket",
    ),
    _stamp(
        "fire-engine.jpg",
        "vehicle",
        ["fire engine", "fire truck", "firetruck", "truck", "fire"],
        "vehicles/emergency/firetruck.png",
        "a red fire engine seen from the side",
    ),
    _stamp(
        "garbage-truck.jpg",
        "vehicle",
        ["garbage truck", "rubbish truck", "dustcart", "bin lorry", "truck", "lorry"],
        "vehicles/garbagetruck.png",
        "a white garbage truck seen from the side",
    ),
    _stamp(
        "cement-mixer.jpg",
        "object",
        ["cement mixer", "concrete mixer", "mixer"],
        "household/tools/cementmixer.png",
        "an old yellow cement mixer",
    ),
    _stamp(
        "light-bulb.jpg",
        "object",
        ["light bulb", "bulb", "lightbulb", "lamp"],
        "household/Lightbulb.png",
        "a clear incandescent light bulb",
    ),
    _stamp(
        "toilet.jpg",
        "object",
        ["toilet", "toilets", "loo", "lavatory"],
        "household/toilet.png",
        "a white toilet with the lid up",
    ),
    _stamp(
        "cherries.jpg",
        "food",
        ["cherry", "cherries", "fruit"],
        "food/fruit/Cherry_Stella.png",
        "two red cherries on joined stalks",
    ),
    _stamp(
        "strawberry.jpg",
        "food",
        ["strawberry", "strawberries", "fruit"],
        "food/fruit/Strawberry2.png",
        "a single red strawberry with its green leaves",
    ),
    Pick(
        "firefighter.jpg",
        "person",
        ["firefighter", "fireman", "person", "man", "firefighters"],
        1,
        "unknown",
        STAMPS,
        "usr/share/tuxpaint/stamps/people/fireman240a.png",
        "Tux Paint contributors (package © 2002-2022 Bill Kendrick)",
        "GPL-2.0-or-later",
        "debian/copyright (Files: *)",
        "a firefighter in a silver protective suit and breathing apparatus walking"
        " — cut-out on a transparent background, flattened on white",
    ),
    # --- more wallpapers ---
    _lomiri(
        "paint-brushes.jpg",
        "object",
        ["brush", "brushes", "paintbrush", "paintbrushes", "paint brushes"],
        0,
        "unknown",
        "Picture_1A_by_freespace.jpg",
        'Trevor "Freespace"',
        "CC-BY-4.0",
        "paint brushes with colourful bristles standing in a pot",
    ),
    _lomiri(
        "autumn-mountain-meadow.jpg",
        "landscape",
        ["mountain", "mountains", "meadow", "hills", "valley", "field"],
        0,
        "outdoors",
        "aitzgorri_by_Aitzol_Berasategi.jpg",
        "Aitzol Berasategi",
        "CC-BY-4.0",
        "a green meadow below autumn woods and a grey mountain ridge",
    ),
    _lomiri(
        "rocky-stream.jpg",
        "landscape",
        ["stream", "creek", "river", "brook", "waterfall", "rocks", "forest"],
        0,
        "outdoors",
        "life_by_Aitzol_Berasategi.jpg",
        "Aitzol Berasategi",
        "CC-BY-4.0",
        "a small stream falling over pale rocks in a wood",
    ),
    _lomiri(
        "mountain-path.jpg",
        "landscape",
        ["mountain", "mountains", "path", "trail", "peaks"],
        0,
        "outdoors",
        "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "Aitzol Berasategi",
        "CC-BY-4.0",
        "a path across a grassy slope towards snowy rocky peaks of the Picos de Europa",
    ),
    _lomiri(
        "dandelion-clocks.jpg",
        "plant",
        ["dandelion", "dandelions", "seed head", "seed heads", "flower", "meadow"],
        0,
        "outdoors",
        "seeding_by_Clements_Engelhardt.jpg",
        "Clemens Engelhardt",
        "CC0-1.0",
        "dandelion seed heads in a meadow, backlit by low sun",
    ),
    _lomiri(
        "sunset-over-hills.jpg",
        "landscape",
        ["sunset", "sun", "sky", "hills", "dusk", "sunrise"],
        0,
        "outdoors",
        "sunset_by_Aitzol_Berasategi.jpg",
        "Aitzol Berasategi",
        "CC-BY-4.0",
        "the sun low over a line of hills, a rocky hilltop in front",
    ),
    Pick(
        "nuthatch-on-a-tree.jpg",
        "animal",
        ["bird", "birds", "nuthatch"],
        0,
        "outdoors",
        LOMIRI20,
        "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
        "Lukas Baubkus",
        "CC-BY-SA-3.0",
        "debian/copyright",
        "a nuthatch clinging to the bark of a tree trunk",
    ),
    _plasma(
        "fallen-leaves.jpg",
        "plant",
        ["leaf", "leaves", "autumn leaves", "fallen leaves", "maple leaf"],
        0,
        "outdoors",
        "FallenLeaf",
        "Martin Klapetek",
        "fallen autumn leaves on the ground, a maple leaf in focus",
    ),
    _plasma(
        "kite-in-the-sky.jpg",
        "object",
        ["kite", "kites", "sky", "clouds"],
        0,
        "outdoors",
        "Kite",
        "Risto Saukonpää",
        "a small colourful kite high in a deep blue sky with wisps of cloud",
    ),
    _plasma(
        "forest-path.jpg",
        "landscape",
        ["forest", "woods", "trees", "path", "trail", "pine forest"],
        0,
        "outdoors",
        "Path",
        "Risto Saukonpää",
        "a narrow path through a dark green spruce forest",
    ),
    Pick(
        "storm-over-a-road.jpg",
        "landscape",
        ["storm", "clouds", "storm clouds", "sky", "road"],
        0,
        "outdoors",
        MATE,
        "usr/share/backgrounds/mate/nature/Storm.jpg",
        "Charles Barbin",
        "GPL-2.0-or-later",
        "debian/copyright",
        "dark storm clouds over flat land, a road blurred by motion in front",
    ),
    # --- more Qt example photos: food ---
    _qtrecipe(
        "burger.jpg",
        ["burger", "burgers", "hamburger", "sandwich", "basil"],
        "burger.jpg",
        "two burgers with basil leaves on a wooden board",
    ),
    _qtrecipe(
        "spaghetti.jpg",
        ["pasta", "spaghetti", "noodles", "plate", "tomato sauce"],
        "pasta.jpg",
        "a plate of spaghetti with tomato sauce, tomatoes beside it",
    ),
    _qtrecipe(
        "grilled-skewers.jpg",
        ["skewer", "skewers", "kebab", "kebabs", "grill", "barbecue", "meat"],
        "skewers.jpg",
        "meat and pepper skewers on a barbecue grill",
    ),
    _qtrecipe(
        "green-soup.jpg",
        ["soup", "bowl", "pea soup", "broth"],
        "soup.jpg",
        "a white bowl of green soup with a sprig of parsley",
    ),
    _qtrecipe(
        "grilled-salmon.jpg",
        ["salmon", "fish", "meal", "dish", "plate", "dinner"],
        "steak.jpg",
        "a grilled salmon fillet with broccoli, rice and a lemon wedge on a plate",
    ),
    Pick(
        "fruit-salad.jpg",
        "food",
        ["fruit", "fruit salad", "fruits", "salad", "bowl", "kiwi", "strawberry"],
        0,
        "unknown",
        QTDECL,
        f"{_QT}/quick/views/listview/content/pics/fruit-salad.jpg",
        "The Qt Company Ltd.",
        "BSD-3-Clause",
        "debian/copyright (Files: examples/*: © 2016-2021 The Qt Company Ltd., BSD-3-clause)",
        "a bowl of fruit salad: melon, kiwi, strawberries, orange, grapes, pineapple",
    ),
    # --- night and dusk: floodlit landmarks (GCompris explore_monuments and details), the moon (Scribus
    # templates), a lake before dawn (Plasma) ---
    _monument(
        "gateway-of-india-at-night.jpg",
        "night_city",
        ["gateway", "gate", "arch", "monument", "building", "night"],
        3,
        "india/gatewayofIndia.webp",
        "Simon Steinberger",
        "CC0-1.0",
        "the Gateway of India floodlit at night, people sitting on the lawn and walking by, palm trees and lamps",
        ["sunset"],
    ),
    _monument(
        "lincoln-memorial-at-dusk.jpg",
        "building",
        ["memorial", "lincoln memorial", "monument", "temple", "building", "columns"],
        3,
        "usa/lincolnMemorial.webp",
        "Brylie Christopher Oxley",
        "CC0-1.0",
        "the Lincoln Memorial floodlit at dusk under a deep-blue sky, a few visitors on the steps",
    ),
    _details(
        "louvre-pyramid-at-night.jpg",
        "night_city",
        ["louvre", "pyramid", "glass pyramid", "palace", "museum", "building", "buildings", "night"],
        "Louvre_2007_02_24_c",
        "Benh LIEU SONG",
        "the Louvre's glass pyramid and palace wings lit at night, small figures of people in the wide courtyard",
        3,
    ),
    _details(
        "notre-dame-at-night.jpg",
        "night_city",
        ["cathedral", "notre dame", "notre-dame", "church", "building", "night"],
        "NDP",
        "Sanchezn",
        "the floodlit front of Notre-Dame de Paris at night under an orange-brown city sky, small figures in front",
        3,
    ),
    _details(
        "opera-house-at-night.jpg",
        "night_city",
        ["opera house", "sydney opera house", "harbour", "harbor", "city", "skyline", "night", "building"],
        "OperaSidney",
        "David Iliff",
        "the Sydney Opera House lit at night on the harbour, city lights behind, reflections on the water",
    ),
    _details(
        "tower-bridge-at-night.jpg",
        "night_city",
        ["bridge", "tower bridge", "river", "thames", "night", "city"],
        "TowerBridgeLondon",
        "David Iliff",
        "Tower Bridge in London lit at night over the dark river, small boats moored in front",
    ),
    Pick(
        "full-moon.jpg",
        "landscape",
        ["moon", "full moon", "night sky", "sky", "night"],
        0,
        "outdoors",
        SCRIBUS,
        "usr/share/scribus/templates/br2/moon.jpg",
        "Riku Leino",
        _PD,
        _SCRIBUS_STATEMENT,
        "the nearly full moon, craters sharp, in a black night sky",
        ["sun"],
    ),
    Pick(
        "moon-in-the-evening-sky.jpg",
        "landscape",
        ["moon", "full moon", "sky", "branches", "tree"],
        0,
        "outdoors",
        SCRIBUS,
        "usr/share/scribus/templates/cal2/moon.jpg",
        "Riku Leino",
        _PD,
        _SCRIBUS_STATEMENT,
        "a full moon in a deep-blue evening sky, dark leafy branches in front",
        ["sun"],
    ),
    Pick(
        "misty-lake-before-dawn.jpg",
        "landscape",
        ["lake", "water", "fog", "mist", "trees", "landscape"],
        0,
        "outdoors",
        PLASMA,
        "usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg",
        "Risto Saukonpää",
        "LGPL-3.0-only",
        "usr/share/wallpapers/DarkestHour/metadata.json (wallpaper “Darkest Hour”)",
        "a still lake in the blue darkness before dawn, mist on the water, a line of trees",
        ["sunset"],
    ),
    # --- more landmarks and a musician (GCompris) ---
    _details(
        "castle-reflected-in-a-lake.jpg",
        "building",
        ["castle", "palace", "building", "lake", "moat", "reflection"],
        "EgeskovSlotSpejling",
        "Malene Thyssen",
        "Egeskov Castle, red brick with green spires, mirrored in its still moat",
    ),
    _details(
        "japanese-castle.jpg",
        "building",
        ["castle", "japanese castle", "nagoya castle", "building", "tower", "pagoda"],
        "Nagoya",
        "Base64",
        "Nagoya Castle: white walls and green roofs on a stone base, trees around",
    ),
    _monument(
        "golden-temple.jpg",
        "building",
        ["temple", "golden temple", "building", "pool", "lake", "water", "reflection"],
        3,
        "india/goldenTemple.webp",
        "Jasdeep Singh",
        "CC0-1.0",
        "the Golden Temple in Amritsar across its pool on a hazy day, crowds along the white buildings",
    ),
    _gc(
        "didgeridoo-player.jpg",
        "person",
        ["man", "musician", "didgeridoo", "person", "performer"],
        1,
        "outdoors",
        "explore_world_music",
        "explore_world_music/resource/music/australia.webp",
        "Steve Evans",
        "CC-BY-2.0",
        "an Aboriginal man with white body paint sitting on a stump and playing a didgeridoo",
    ),
    # --- rooms and streets (Scratch 1.4 backgrounds) ---
    _scratch(
        "empty-hallway.jpg",
        "room",
        ["hallway", "corridor", "hall", "interior", "room"],
        0,
        "indoors",
        "Backgrounds/Indoors/hall.jpg",
        "a long empty corridor with a blue carpet, windows on the left and pink doors on the right",
    ),
    _scratch(
        "stage-with-blackboard.jpg",
        "room",
        ["blackboard", "chalkboard", "stage", "curtains", "classroom", "room"],
        0,
        "indoors",
        "Backgrounds/Indoors/chalkboard.jpg",
        "a blackboard between red curtains above a wooden stage floor, a pink wall",
    ),
    _scratch(
        "parking-garage-entrance.jpg",
        "street",
        ["street", "road", "parking garage", "car park", "garage", "parking"],
        1,
        "outdoors",
        "Backgrounds/Outdoors/parking-ramp.jpg",
        "a street in front of a multi-storey car park's entrance and exit, one pedestrian far left",
    ),
    _scratch(
        "lane-between-shacks.jpg",
        "street",
        ["shacks", "huts", "lane", "street", "houses", "shanty town", "slum", "village"],
        0,
        "outdoors",
        "Backgrounds/Outdoors/houses.jpg",
        "a dirt lane between corrugated-iron shacks in an informal settlement",
    ),
]

# Light and weather of every pick: light is day, dusk (sunset, sunrise, golden light), night, indoor (artificial
# light indoors) or unknown (a close-up or cut-out that does not tell); weather lists what is visibly true of the
# sky and the ground (clear: blue sky; cloudy; fog; rain; snow: snow or ice), none when neither shows.
LIGHTS = {"day", "dusk", "night", "indoor", "unknown"}
WEATHERS = {"clear", "cloudy", "fog", "rain", "snow"}
SCENE: dict[str, tuple[str, list[str]]] = {
    "man-close-up.jpg": ("unknown", []),
    "young-man-smiling.jpg": ("indoor", []),
    "woman-on-beach.jpg": ("day", ["cloudy"]),
    "man-at-canyon.jpg": ("dusk", ["clear"]),
    "couple-with-wine.jpg": ("indoor", []),
    "three-friends.jpg": ("indoor", []),
    "billiards.jpg": ("indoor", []),
    "dog-on-floor.jpg": ("indoor", []),
    "dog-in-woods.jpg": ("day", []),
    "rabbit-on-grass.jpg": ("day", []),
    "planes-at-airport.jpg": ("day", ["cloudy", "snow"]),
    "sunset-over-trees.jpg": ("dusk", ["cloudy"]),
    "grand-canyon.jpg": ("dusk", ["clear"]),
    "taiko-festival.jpg": ("night", []),
    "orchestra.jpg": ("indoor", []),
    "mariachi-band.jpg": ("day", []),
    "opera-singers.jpg": ("indoor", []),
    "folk-musicians.jpg": ("indoor", []),
    "drum-kit-and-guitar.jpg": ("indoor", []),
    "kitten.jpg": ("day", []),
    "kitten-playing.jpg": ("indoor", []),
    "german-shepherd.jpg": ("day", []),
    "chickens.jpg": ("day", []),
    "cows-in-field.jpg": ("day", ["cloudy"]),
    "horses.jpg": ("day", ["clear", "cloudy"]),
    "sheep.jpg": ("day", []),
    "duck.jpg": ("day", []),
    "kingfisher.jpg": ("day", []),
    "swans.jpg": ("day", []),
    "squirrel.jpg": ("day", []),
    "macaw.jpg": ("day", []),
    "goat.jpg": ("day", ["clear", "cloudy", "snow"]),
    "cup-and-saucer.jpg": ("unknown", []),
    "chair.jpg": ("indoor", []),
    "frying-pan.jpg": ("indoor", []),
    "volleyball.jpg": ("unknown", []),
    "baseball.jpg": ("unknown", []),
    "eiffel-tower.jpg": ("day", ["clear", "cloudy"]),
    "skyscrapers.jpg": ("day", ["clear"]),
    "palace-at-night.jpg": ("night", []),
    "brandenburg-gate.jpg": ("dusk", ["clear", "cloudy"]),
    "citrus-fruits.jpg": ("unknown", []),
    "bee-on-aster.jpg": ("day", []),
    "bridge-at-night.jpg": ("night", []),
    "shrimp-dinner.jpg": ("unknown", []),
    "pizza.jpg": ("unknown", []),
    "skyline-at-dusk.jpg": ("dusk", ["cloudy"]),
    "living-room.jpg": ("indoor", []),
    "dogs-at-window.jpg": ("day", []),
    "fig-in-bowl.jpg": ("unknown", []),
    "wall-clock.jpg": ("indoor", []),
    "colourful-cups.jpg": ("unknown", []),
    "rowing-boats.jpg": ("dusk", ["cloudy"]),
    "yellow-flower.jpg": ("unknown", []),
    "ladybird-on-flowers.jpg": ("day", []),
    "lighthouse.jpg": ("day", ["clear"]),
    "sheep-pasture.jpg": ("day", ["clear"]),
    "ocean-waves.jpg": ("day", []),
    "car.jpg": ("unknown", []),
    "bus.jpg": ("unknown", []),
    "teddy-bear.jpg": ("unknown", []),
    "kitchen.jpg": ("indoor", []),
    "boy.jpg": ("unknown", []),
    "bicycle.jpg": ("unknown", []),
    "cupcakes.jpg": ("unknown", []),
    "pancakes.jpg": ("unknown", []),
    # added with light and weather
    "friends-in-a-bar.jpg": ("indoor", []),
    "friends-at-the-seaside.jpg": ("day", ["cloudy"]),
    "couple-at-grand-canyon.jpg": ("dusk", ["clear"]),
    "man-talking.jpg": ("indoor", []),
    "young-man-in-a-cabinet.jpg": ("indoor", []),
    "playing-pool.jpg": ("indoor", []),
    "two-men-playing-pool.jpg": ("indoor", []),
    "rough-sea.jpg": ("day", ["cloudy"]),
    "coast-from-a-plane.jpg": ("day", ["clear"]),
    "rabbit-in-a-box.jpg": ("indoor", []),
    "camels.jpg": ("day", ["cloudy"]),
    "meerkats.jpg": ("dusk", []),
    "giraffes.jpg": ("day", ["clear"]),
    "koala.jpg": ("day", []),
    "giant-panda.jpg": ("day", []),
    "polar-bear.jpg": ("day", ["snow"]),
    "tabby-and-white-cat.jpg": ("unknown", []),
    "grey-cat-looking-up.jpg": ("unknown", []),
    "calico-cat.jpg": ("indoor", []),
    "maine-coon-cat.jpg": ("day", []),
    "tabby-cat-portrait.jpg": ("unknown", []),
    "meadow-flowers.jpg": ("day", []),
    "swallowtail-butterfly.jpg": ("day", []),
    "fog-over-a-field.jpg": ("day", ["clear", "fog"]),
    "apple-blossom.jpg": ("day", []),
    "clouds-at-sunset.jpg": ("dusk", ["cloudy"]),
    "dew-drop-on-grass.jpg": ("unknown", []),
    "mallard-on-grass.jpg": ("day", []),
    "soldiers-in-red-uniforms.jpg": ("day", []),
    "stained-glass-window.jpg": ("unknown", []),
    "vintage-red-car.jpg": ("day", []),
    "castle-on-a-rock.jpg": ("day", ["clear", "cloudy"]),
    "pickup-truck-in-an-orchard.jpg": ("day", ["clear"]),
    "power-lines.jpg": ("day", ["clear", "cloudy"]),
    "taj-mahal.jpg": ("day", ["clear"]),
    "chamomile-flowers.jpg": ("day", []),
    "ducklings-in-grass.jpg": ("day", []),
    "blue-eyed-cat.jpg": ("unknown", []),
    "tiger-in-snow.jpg": ("day", ["snow"]),
    "mountain-peaks.jpg": ("day", ["clear", "cloudy"]),
    "mountain-hut.jpg": ("day", []),
    "hikers-in-a-valley.jpg": ("day", ["clear"]),
    "hikers-on-a-summit.jpg": ("day", ["cloudy"]),
    "castle-behind-daisies.jpg": ("day", ["clear", "cloudy"]),
    "red-poppies.jpg": ("day", ["clear"]),
    "lighthouse-on-cliffs.jpg": ("dusk", []),
    "glass-dome-roof.jpg": ("day", []),
    "coffee-filter.jpg": ("unknown", []),
    "owl-on-a-stump.jpg": ("day", []),
    "clothing-store.jpg": ("indoor", []),
    "cinema-lobby.jpg": ("indoor", []),
    "sandy-beach.jpg": ("day", ["clear"]),
    "zinnias.jpg": ("day", []),
    "birch-forest.jpg": ("day", ["fog"]),
    "pond-in-the-woods.jpg": ("day", []),
    "forest-stream.jpg": ("day", []),
    "boardwalk-by-the-sea.jpg": ("day", ["clear", "cloudy"]),
    "bench-with-a-view.jpg": ("day", ["clear"]),
    "playground.jpg": ("day", []),
    "modern-building.jpg": ("day", ["clear", "cloudy"]),
    "brick-warehouse.jpg": ("day", []),
    "papal-palace.jpg": ("day", ["cloudy"]),
    "city-skyline-at-night.jpg": ("night", []),
    "city-across-the-river.jpg": ("day", ["clear", "cloudy"]),
    "stone-arcade.jpg": ("day", []),
    "hay-bales-in-a-field.jpg": ("day", ["clear"]),
    "mansion.jpg": ("day", ["clear"]),
    "route-66.jpg": ("day", ["cloudy"]),
    "cinema-entrance.jpg": ("day", []),
    "railway-through-a-valley.jpg": ("day", ["cloudy"]),
    "old-wooden-shed.jpg": ("day", ["clear"]),
    "baseball-stadium.jpg": ("day", []),
    "basketball-court.jpg": ("day", []),
    "american-football-stadium.jpg": ("day", []),
    "football-pitch.jpg": ("day", ["cloudy"]),
    "jellyfish.jpg": ("unknown", []),
    "machine-gears.jpg": ("indoor", []),
    "cornfield.jpg": ("day", []),
    "rocky-cliff.jpg": ("day", ["clear"]),
    "bare-tree-at-dusk.jpg": ("dusk", ["clear"]),
    "sun-behind-clouds.jpg": ("day", ["clear", "cloudy"]),
    "jumbo-jet.jpg": ("unknown", []),
    "hot-air-balloon.jpg": ("unknown", []),
    "fire-engine.jpg": ("unknown", []),
    "garbage-truck.jpg": ("unknown", []),
    "cement-mixer.jpg": ("unknown", []),
    "light-bulb.jpg": ("unknown", []),
    "toilet.jpg": ("unknown", []),
    "cherries.jpg": ("unknown", []),
    "strawberry.jpg": ("unknown", []),
    "firefighter.jpg": ("unknown", []),
    "paint-brushes.jpg": ("unknown", []),
    "autumn-mountain-meadow.jpg": ("day", ["clear", "cloudy"]),
    "rocky-stream.jpg": ("day", []),
    "mountain-path.jpg": ("day", ["clear", "cloudy", "snow"]),
    "dandelion-clocks.jpg": ("dusk", []),
    "sunset-over-hills.jpg": ("dusk", ["clear"]),
    "nuthatch-on-a-tree.jpg": ("day", []),
    "fallen-leaves.jpg": ("day", []),
    "kite-in-the-sky.jpg": ("day", ["clear", "cloudy"]),
    "forest-path.jpg": ("day", []),
    "storm-over-a-road.jpg": ("day", ["cloudy"]),
    "burger.jpg": ("unknown", []),
    "spaghetti.jpg": ("unknown", []),
    "grilled-skewers.jpg": ("unknown", []),
    "green-soup.jpg": ("unknown", []),
    "grilled-salmon.jpg": ("unknown", []),
    "fruit-salad.jpg": ("unknown", []),
    # night and dusk scenes, more rooms and streets
    "gateway-of-india-at-night.jpg": ("night", []),
    "lincoln-memorial-at-dusk.jpg": ("dusk", ["clear"]),
    "louvre-pyramid-at-night.jpg": ("night", ["cloudy"]),
    "notre-dame-at-night.jpg": ("night", []),
    "opera-house-at-night.jpg": ("night", []),
    "tower-bridge-at-night.jpg": ("night", []),
    "full-moon.jpg": ("night", []),
    "moon-in-the-evening-sky.jpg": ("dusk", ["clear"]),
    "misty-lake-before-dawn.jpg": ("night", ["fog"]),
    "castle-reflected-in-a-lake.jpg": ("day", ["clear", "cloudy"]),
    "japanese-castle.jpg": ("day", ["cloudy"]),
    "golden-temple.jpg": ("day", []),
    "didgeridoo-player.jpg": ("day", []),
    "empty-hallway.jpg": ("indoor", []),
    "stage-with-blackboard.jpg": ("indoor", []),
    "parking-garage-entrance.jpg": ("day", []),
    "lane-between-shacks.jpg": ("day", ["clear", "cloudy"]),
}


def rcc_member(data: bytes, wanted: str) -> bytes:
    """One file out of a Qt binary resource (.rcc): header 'qres', then a tree of 14/22-byte nodes."""
    if data[:4] != b"qres":
        raise ValueError("not a Qt .rcc file")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    node = 14 if version == 1 else 22

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", data[names + offset : names + offset + 2])
        return data[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    def find(index: int, parts: list[str]) -> bytes:
        off = tree + index * node
        flags = struct.unpack(">H", data[off + 4 : off + 6])[0]
        if not parts:
            if flags & 2:
                raise KeyError(wanted)
            (doff,) = struct.unpack(">I", data[off + 10 : off + 14])
            (size,) = struct.unpack(">I", data[payload + doff : payload + doff + 4])
            blob = data[payload + doff + 4 : payload + doff + 4 + size]
            return zlib.decompress(blob[4:]) if flags & 1 else blob
        count, first = struct.unpack(">II", data[off + 6 : off + 14])
        for child in range(first, first + count):
            if name(struct.unpack(">I", data[tree + child * node : tree + child * node + 4])[0]) == parts[0]:
                return find(child, parts[1:])
        raise KeyError(wanted)

    return find(0, wanted.split("/"))


def open_source(pick: Pick, root: Path) -> Image.Image:
    if "!" in pick.member:
        rcc, inner = pick.member.split("!")
        img: Image.Image = Image.open(io.BytesIO(rcc_member((root / rcc).read_bytes(), inner)))
    else:
        img = Image.open(root / pick.member)
    if pick.rotate:
        img = ImageOps.exif_transpose(img).rotate(-pick.rotate, expand=True)
    return img


def to_jpeg(img: Image.Image) -> tuple[bytes, int, int]:
    """Upright, sRGB, ≤ MAX_SIDE, transparency flattened on white, JPEG without EXIF/ICC/comments."""
    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK", "L"):
        srgb = ImageCms.createProfile("sRGB")
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb, outputMode=mode)
        assert converted is not None  # None only with inPlace=True
        img = converted
    if img.mode in ("P", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGB", img.size, "white")
        white.paste(img, mask=img.getchannel("A"))
        img = white
    img = img.convert("RGB")
    img.info.clear()
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue(), img.width, img.height


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def manifest_entry(
    *,
    file: str,
    category: str,
    subject: list[str],
    people: int,
    setting: str,
    absent: list[str],
    light: str,
    weather: list[str],
    source: str,
    licence: str,
    author: str,
    note: str,
) -> list[str]:
    """One `[[photo]]` entry of a manifest, as lines (this builder's and build_everyday_pypi_npm's)."""
    return [
        "[[photo]]",
        f"file = {_toml_str(file)}",
        f"category = {_toml_str(category)}",
        f"subject = {_toml_list(subject)}",
        f"people = {people}",
        f"setting = {_toml_str(setting)}",
        *([f"absent = {_toml_list(absent)}"] if absent else []),
        f"light = {_toml_str(light)}",
        f"weather = {_toml_list(weather)}",
        f"source = {_toml_str(source)}",
        f"licence = {_toml_str(licence)}",
        f"author = {_toml_str(author)}",
        f"note = {_toml_str(note)}",
        "",
    ]


def source_line(pick: Pick) -> str:
    return f"Debian package {pick.package.name} {pick.package.version}, /{pick.member}"


def manifest(picks: list[Pick]) -> str:
    lines = [
        "# Everyday test photos out of Debian packages: what each one shows. Rebuilt by scripts/build_everyday_set.py;",
        "# see CREDITS.md. (photos-pypi-npm.toml describes the photos out of PyPI and npm packages the same way.)",
        "# category: person, people, child, crowd, pet, animal, food, drink, vehicle, object, room, kitchen, street,",
        "#   building, night_city, sport, landscape or plant.",
        "# subject: a caption naming any of these words (as a whole word) names the main subject.",
        "# people: visible people (3 for three or more); setting: indoors, outdoors or unknown (close-ups, cut-outs);",
        "# absent (optional): tempting wrong words, which a caption should not use.",
        "# light: day, dusk (sunset/sunrise/golden light), night, indoor (artificial light indoors) or unknown.",
        "# weather: what is visibly true of sky and ground among clear (blue sky), cloudy, fog, rain, snow (snow or",
        "#   ice); [] when no sky or ground weather shows (indoors, close-ups).",
        "",
    ]
    for p in picks:
        light, weather = SCENE[p.file]
        lines += manifest_entry(
            file=p.file, category=p.category, subject=p.subject, people=p.people, setting=p.setting,
            absent=p.absent, light=light, weather=weather, source=source_line(p), licence=p.licence,
            author=p.author, note=p.note,
        )  # fmt: skip
    return "\n".join(lines)


def credits(picks: list[Pick]) -> str:
    lines = [
        "# Everyday test photos — credits",
        "",
        'Every photo listed here comes from a Debian 12 "bookworm" package and was modified: ' + MODIFIED + ". "
        "`scripts/build_everyday_set.py` rebuilds these photos and `photos.toml`; the photos out of PyPI and npm "
        "packages are credited in `CREDITS-pypi-npm.md`. Licence texts are in `LICENSES/` (GPL-2.0, GPL-3.0 + "
        "LGPL-3.0, LGPL-2.1, CC0-1.0, CC-BY-4.0, CC-BY-SA-3.0, CC-BY-SA-4.0, BSD-3-Clause (Qt's and jsCropperUI's "
        "wording), MIT (jQuery Backstretch's wording), GFDL-1.2); CC-BY-2.0 is referenced by its URL, as it allows. "
        "“Public domain” means the package states the photo is in the public domain.",
        "",
        "| file | what it shows | author | licence | source package and path | statement |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in picks:
        lic = "public domain" if p.licence == _PD else f"[{p.licence}]({LICENSE_URLS[p.licence]})"
        lines.append(
            f"| {p.file} | {p.note} | {p.author} | {lic} | {p.package.name} {p.package.version}: "
            f"`/{p.member}` | {p.statement} |"
        )
    return "\n".join(lines) + "\n"


def write_license_texts(out: Path, workdir: Path) -> None:
    dest = out / "LICENSES"
    dest.mkdir(exist_ok=True)
    for name, system_path in SYSTEM_TEXTS.items():
        shutil.copyfile(system_path, dest / name)
    for name, (package, paragraph) in COPYRIGHT_TEXTS.items():
        copyright_file = download(package, workdir) / "usr/share/doc" / package.name / "copyright"
        (dest / name).write_text(license_paragraph(copyright_file, paragraph), encoding="utf-8")


def manifest_files(path: Path) -> set[str]:
    """The photo files a manifest lists (none when it does not exist)."""
    if not path.is_file():
        return set()
    with path.open("rb") as fh:
        return {str(entry["file"]) for entry in tomllib.load(fh).get("photo", [])}


def check_picks(picks: list[Pick], out: Path) -> set[str]:
    """Each pick labelled once, with light and weather; returns the files this script wrote before (its own).
    The folder is shared with other builders (photos-*.toml): their files are never overwritten nor removed."""
    files = [p.file for p in picks]
    repeated = sorted({f for f in files if files.count(f) > 1})
    unlabelled = sorted(set(files) ^ set(SCENE))
    bad = sorted(
        p.file
        for p in picks
        if SCENE.get(p.file, ("", []))[0] not in LIGHTS or not set(SCENE.get(p.file, ("", []))[1]) <= WEATHERS
    )
    if repeated or unlabelled or bad:
        raise SystemExit(f"picks: repeated {repeated}, without light/weather (or extra) {unlabelled}, bad labels {bad}")
    own = manifest_files(out / "photos.toml")
    others = set().union(*(manifest_files(m) for m in out.glob("photos*.toml") if m.name != "photos.toml"))
    clash = sorted(f for f in files if f in others or ((out / f).exists() and f not in own))
    if clash:
        raise SystemExit(f"would overwrite photos this script did not write: {clash}")
    return own


def build(out: Path, workdir: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    own = check_picks(PICKS, out)
    for old in sorted(own - {p.file for p in PICKS}):
        (out / old).unlink(missing_ok=True)
    for pick in PICKS:
        data, width, height = to_jpeg(open_source(pick, download(pick.package, workdir)))
        (out / pick.file).write_bytes(data)
        print(f"{pick.file:32} {width}x{height} {len(data) // 1024:4d} KiB  {pick.category:10} {pick.licence}")
    (out / "photos.toml").write_text(manifest(PICKS), encoding="utf-8")
    (out / "CREDITS.md").write_text(credits(PICKS), encoding="utf-8")
    write_license_texts(out, workdir)
    total = sum((out / p.file).stat().st_size for p in PICKS)
    print(f"{len(PICKS)} photos, {total / 1e6:.2f} MB in {out}")


def main() -> None:
    build_from_command_line(__doc__.splitlines()[0], REPO / "tests" / "data" / "everyday", build)


if __name__ == "__main__":
    main()
