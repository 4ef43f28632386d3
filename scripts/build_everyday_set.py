"""Rebuild tests/data/everyday/ — a public test set of everyday photos — from Debian packages.

The set measures whether the captioner names the main subject of an everyday photo (people, pets, food,
vehicles, rooms, streets...). Every photo comes from a Debian package whose debian/copyright, or a credits
file shipped next to the photo, states the author and a free licence for that very file; each pick below
records where that statement is. Every photo was looked at before it was labelled. The sample images of
scikit-image, scikit-learn and OpenCV (and copies of them) are deliberately NOT used: they are kept for an
independent check.

Sources (Debian 12 "bookworm"):
  gcompris-qt-data   photos inside Qt resource files (.rcc); credits in the README beside each photo
  kphotoalbum        the demo album (upstream .reuse/dep5: demo/*.jpg © 2003-2007 Jesper K. Pedersen, CC-BY-SA-4.0)
  palapeli-data      puzzle photos; author and licence in the puzzle's .desktop file
  scribus-template   template photos by Riku Leino, placed in the public domain (debian/copyright)
  lomiri-wallpapers-16.04, plasma-workspace-wallpapers, mate-backgrounds   wallpapers (debian/copyright,
                     metadata.json for Plasma)
  tuxpaint-data, tuxpaint-stamps-default   photo templates by Bill Kendrick, photo stamps (GPL-2+)
  scratch            Scratch 1.4 media: backgrounds and photo cut-outs (debian/copyright: Media/* © MIT, CC-BY-SA-3.0)
  qtdeclarative5-examples, qtwebengine5-examples   example photos (debian/copyright: examples/* © The Qt Company,
                     BSD-3-clause)

Usage (Debian bookworm, `apt-get update` first; needs apt-get, dpkg-deb and Pillow with WebP support):
    .venv/bin/python -m scripts.build_everyday_set [--workdir DIR] [--out tests/data/everyday]
Packages are downloaded at the exact versions below, so a rerun gives the same photos.
"""

from __future__ import annotations

import io
import shutil
import struct
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

LICENSE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-2.0": "https://creativecommons.org/licenses/by/2.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "BSD-3-Clause": "https://opensource.org/licenses/BSD-3-Clause",
    "GPL-2.0-or-later": "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
    "LGPL-3.0-only": "https://www.gnu.org/licenses/lgpl-3.0.html",
    "LicenseRef-public-domain": "",
}
# Licence texts copied into LICENSES/: from the system, or from a stand-alone `License:` paragraph of a
# package's debian/copyright. LGPL-3.0 is a set of permissions added to GPL-3.0, so both texts travel together.
SYSTEM_TEXTS = {
    "GPL-2.0.txt": "/usr/share/common-licenses/GPL-2",
    "GPL-3.0.txt": "/usr/share/common-licenses/GPL-3",
    "LGPL-3.0.txt": "/usr/share/common-licenses/LGPL-3",
    "CC0-1.0.txt": "/usr/share/common-licenses/CC0-1.0",
}
COPYRIGHT_TEXTS = {  # file in LICENSES/ -> (package, name of the License paragraph in its debian/copyright)
    "CC-BY-4.0.txt": (LOMIRI, "CC-BY-4.0"),
    "CC-BY-SA-4.0.txt": (LOMIRI, "CC-BY-SA-4.0"),
    "CC-BY-SA-3.0.txt": (SCRATCH, "CC-BY-SA-3.0"),
    "BSD-3-Clause.txt": (QTDECL, "BSD-3-clause"),
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


_KPA_STATEMENT = (
    "upstream KPhotoAlbum .reuse/dep5 (demo/*.jpg: © 2003-2007 Jesper K. Pedersen, CC-BY-SA-4.0); "
    "debian/copyright: whole package GPL-2+"
)


def _kpa(file, category, subject, people, setting, name, note, absent=()):
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
]


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
        return Image.open(io.BytesIO(rcc_member((root / rcc).read_bytes(), inner)))
    return Image.open(root / pick.member)


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


def source_line(pick: Pick) -> str:
    return f"Debian package {pick.package.name} {pick.package.version}, /{pick.member}"


def manifest(picks: list[Pick]) -> str:
    lines = [
        "# Everyday test photos: what each one shows. Rebuilt by scripts/build_everyday_set.py; see CREDITS.md.",
        "# subject: a caption naming any of these words (as a whole word) names the main subject.",
        "",
    ]
    for p in picks:
        lines += [
            "[[photo]]",
            f"file = {_toml_str(p.file)}",
            f"category = {_toml_str(p.category)}",
            f"subject = {_toml_list(p.subject)}",
            f"people = {p.people}",
            f"setting = {_toml_str(p.setting)}",
        ]
        if p.absent:
            lines.append(f"absent = {_toml_list(p.absent)}")
        lines += [
            f"source = {_toml_str(source_line(p))}",
            f"licence = {_toml_str(p.licence)}",
            f"author = {_toml_str(p.author)}",
            f"note = {_toml_str(p.note)}",
            "",
        ]
    return "\n".join(lines)


def credits(picks: list[Pick]) -> str:
    lines = [
        "# Everyday test photos — credits",
        "",
        'Every photo comes from a Debian 12 "bookworm" package and was modified: ' + MODIFIED + ". "
        "`scripts/build_everyday_set.py` rebuilds the set. Licence texts are in `LICENSES/` (GPL-2.0, GPL-3.0 + "
        "LGPL-3.0, CC0-1.0, CC-BY-4.0, CC-BY-SA-3.0, CC-BY-SA-4.0, BSD-3-Clause); CC-BY-2.0 is referenced by its URL, "
        "as it allows. "
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


def build(out: Path, workdir: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.jpg"):
        old.unlink()
    for pick in PICKS:
        data, width, height = to_jpeg(open_source(pick, download(pick.package, workdir)))
        (out / pick.file).write_bytes(data)
        print(f"{pick.file:26} {width}x{height} {len(data) // 1024:4d} KiB  {pick.category:10} {pick.licence}")
    (out / "photos.toml").write_text(manifest(PICKS), encoding="utf-8")
    (out / "CREDITS.md").write_text(credits(PICKS), encoding="utf-8")
    write_license_texts(out, workdir)
    total = sum(p.stat().st_size for p in out.glob("*.jpg"))
    print(f"{len(PICKS)} photos, {total / 1e6:.2f} MB in {out}")


def main() -> None:
    build_from_command_line(__doc__.splitlines()[0], REPO / "tests" / "data" / "everyday", build)


if __name__ == "__main__":
    main()
