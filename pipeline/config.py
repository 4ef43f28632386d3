"""Pipeline settings: which backend runs each stage, and its knobs.

Everything is read from the environment or a `.env` file (pydantic-settings), so choosing a backend is
configuration, never an `if` spread through the code. The defaults are the offline, package-shipped models.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(__file__).resolve().parent / "data"  # what ships with the pipeline: word lists, vocabularies, a model

Language = Literal["pt", "en"]


class PipelineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    # Input limits (decompression bombs, huge downloads).
    max_image_bytes: int = Field(20 * 1024 * 1024, description="largest photo accepted, in bytes")
    max_image_pixels: int = Field(50_000_000, description="largest photo accepted, in pixels (w*h)")
    fetch_timeout_s: float = Field(15.0, description="timeout for fetching a photo by URL")
    fetch_max_redirects: int = 3

    # Caption.
    caption_backend: Literal["classifier", "blip", "openai"] = "classifier"
    caption_classifier: Literal["lite0+lite2", "lite0", "lite1", "lite2"] = Field(
        "lite0+lite2",
        description="EfficientNet-Lite variant(s) of the offline captioner, averaged when joined by +",
    )
    caption_faces: bool = Field(True, description="find faces (MTCNN) so the caption can name people")
    caption_objects: bool = Field(True, description="find COCO objects (NanoDet) to count people and check things")
    model_cache_dir: Path | None = Field(
        None,
        description="where the captioner's networks, exported once to ONNX, are kept (later starts need no "
        "PyTorch); None = $XDG_CACHE_HOME/conta-historias or ~/.cache/conta-historias",
    )
    blip_model_id: str = "Salesforce/blip-image-captioning-base"
    torch_threads: int = Field(
        1,
        description="PyTorch intra-op threads, process-wide, set when a torch model loads (0 = leave). "
        "1 because stages overlap: on 2 busy cores, 2 torch threads made captions 5x slower",
    )

    # Story.
    story_backend: Literal["llama", "transformers", "openai"] = "llama"
    story_tier: Literal["quality", "light"] = Field(
        "quality",
        description="the llama writer's model: quality = Qwen2.5-Coder-1.5B (1.1 GB, ~2 GB of memory), light = "
        "SmolLM2-135M (small machines; also the fallback when the quality model is missing or memory is short)",
    )
    story_model_id: str = Field("gpt2", description="Hugging Face id for the transformers backend")
    story_temperature: float = 0.7
    story_seed: int | None = Field(None, description="fixed seed for reproducible stories; None = random")
    story_max_tokens: int = 260
    llama_threads: int = Field(2, description="llama.cpp threads (this machine has 2 cores)")
    story_model_path: Path | None = Field(
        None, description="any local GGUF chat model (ChatML) for the llama backend; None = the story tier's model"
    )

    # Bring your own model (caption_backend / story_backend = "openai"): any OpenAI-compatible chat-completions
    # server (Ollama, llama.cpp server, vLLM, a cloud API); on any failure the offline backend answers instead.
    openai_base_url: str = Field(
        "http://127.0.0.1:11434/v1", description="API root ending before /chat/completions (default: local Ollama)"
    )
    openai_api_key: SecretStr | None = Field(None, description="sent as 'Authorization: Bearer KEY' when set")
    openai_caption_model: str = Field("llava", description="a vision chat model, for caption_backend=openai")
    openai_story_model: str = Field("llama3.2", description="a chat model, for story_backend=openai")
    openai_timeout_s: float = Field(
        30.0, description="time budget of one request; past it the offline backend answers instead"
    )

    # Translation.
    translate_backend: Literal["offline", "googletrans"] = "offline"
    googletrans_timeout_s: float = 5.0
    googletrans_service_url: str = Field(
        "translate.googleapis.com",
        description="host (or base URL such as http://127.0.0.1:8080) googletrans talks to; tests use a loopback fake",
    )

    # Speech.
    voice_language: Language = Field("pt", description="default narration language")
    speech_backend_pt: Literal["rhvoice", "espeak", "transformers"] = "rhvoice"
    speech_backend_en: Literal["piper", "espeak", "transformers"] = "piper"
    vits_model_id_pt: str = "facebook/mms-tts-por"
    vits_model_id_en: str = "facebook/mms-tts-eng"
    voice_max_seconds: float = 180.0
    rhvoice_library: str = Field(
        "libRHVoice.so.5", description="RHVoice's C library (Debian: librhvoice5); missing → espeak-ng for Portuguese"
    )
    rhvoice_voice: str = Field("Leticia-F123", description="RHVoice voice profile")
    espeak_command: str = Field("espeak-ng", description="espeak-ng CLI, the robotic last resort")
    voice_bitrate_bps: int = Field(32_000, description="Opus bitrate of voice messages (speech: 24–32 kbit/s)")

    # Photo sources for /aleatorio.
    unsplash_access_key: SecretStr | None = None
    unsplash_api_url: str = "https://api.unsplash.com"
    unsplash_query: str = "landscape"
    unsplash_timeout_s: float = 10.0
    app_name: str = Field("conta_historias", description="utm_source for Unsplash attribution links")

    # Timeouts per stage (seconds): a stage slower than this fails, and the others still deliver. The story stage
    # counts its wait for the story model (one story at a time): with the quality tier (~20 s a story on 2 cores)
    # and two jobs running, a long story can start 30 s late.
    stage_timeout_s: float = 120.0

    # Scale-out (pipeline/remote/, worker.py): without a queue URL the pipeline runs in the bot's process.
    queue_url: str | None = Field(None, description="Redis URL (redis://host:6379/0): run pipeline jobs on workers")
    queue_name: str = Field("conta-historias:queue", description="arq queue shared by the bot and its workers")
    queue_deadline_s: float = Field(
        180.0, description="how long the bot waits for a remote job (time in line included) before apologising"
    )
    worker_jobs: int = Field(2, description="jobs one worker process runs at once")
    worker_lease_s: float = Field(
        10.0, description="a job whose worker died (SIGKILL, OOM) is run again by another after about this long"
    )
    worker_max_tries: int = Field(3, description="runs of one job at most: a photo that kills workers is given up")


def cache_folder(configured: Path | None = None) -> Path:
    """Where exported models are kept: `configured` (the `model_cache_dir` setting), else the user's cache."""
    if configured is not None:
        return configured.expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec ignores relative paths
    return base / "conta-historias"
