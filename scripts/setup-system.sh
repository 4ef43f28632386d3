#!/usr/bin/env bash
# Installs the Debian packages Conta-Histórias needs (voices, audio, Redis for the scale-out tests).
# RHVoice lives in Debian's non-free component: enable it when we can (root on Debian), otherwise
# the bot falls back to espeak-ng for Portuguese and says so in the log.
set -euo pipefail

# libsndfile1: the distribution's OGG/Opus encoder, ~3x faster than the one in the soundfile wheel.
# hunspell-pt-br: the pt-BR dictionary `make caption-eval` checks the Portuguese stories against.
PACKAGES=(espeak-ng libsndfile1 redis-server hunspell hunspell-pt-br)
# hunspell-en-us: `make story-eval` tells names from English words with it ("Cara smiled": a name; "Grandma": none).
PACKAGES+=(hunspell-en-us)
# chromium + chromium-driver: the web page's real-browser test (Selenium, headless); the emoji font for its screenshot.
PACKAGES+=(chromium chromium-driver fonts-noto-color-emoji)
# postgresql: the store's tests run on a real PostgreSQL too (tools/postgres.py starts one on loopback).
PACKAGES+=(postgresql)
# librhvoice5: RHVoice read in-process (pipeline/speech/rhvoice.py); its voice: rhvoice-brazilian-portuguese.
NONFREE_PACKAGES=(librhvoice5 rhvoice-brazilian-portuguese)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: apt-get not found; install espeak-ng and (optionally) RHVoice with Letícia-F123 by hand" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-system: not root and no sudo; skipping Debian packages" >&2; exit 0; fi
fi

missing=()
for pkg in "${PACKAGES[@]}" "${NONFREE_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Enable non-free for the running Debian release (deb822 sources), once.
. /etc/os-release
NONFREE_LIST=/etc/apt/sources.list.d/conta-historias-non-free.sources
if [ "${ID:-}" = "debian" ] && [ -n "${VERSION_CODENAME:-}" ] && [ ! -f "$NONFREE_LIST" ] \
   && ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  $SUDO tee "$NONFREE_LIST" >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME} ${VERSION_CODENAME}-updates
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
$SUDO apt-get install -y -qq --no-install-recommends "${NONFREE_PACKAGES[@]}" \
  || echo "setup-system: RHVoice unavailable; Portuguese narration will use espeak-ng" >&2
