"""Pipeline settings: which backend runs each stage, and its knobs.

Everything is read from the environment or a `.env` file (pydantic-settings), so choosing a backend is
configuration, never an `if` spread through the code. The defaults are the offline, package-shipped models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["pt", "en"]


class PipelineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Input limits (decompression bombs, huge downloads).
    max_image_bytes: int = Field(20 * 1024 * 1024, description="largest photo accepted, in bytes")
    max_image_pixels: int = Field(50_000_000, description="largest photo accepted, in pixels (w*h)")
    fetch_timeout_s: float = Field(15.0, description="timeout for fetching a photo by URL")
    fetch_max_redirects: int = 3

    # Caption.
    caption_backend: Literal["classifier", "blip"] = "classifier"
    blip_model_id: str = "Salesforce/blip-image-captioning-base"

    # Story.
    story_backend: Literal["llama", "transformers"] = "llama"
    story_model_id: str = Field("gpt2", description="Hugging Face id for the transformers backend")
    story_temperature: float = 0.7
    story_seed: int | None = Field(None, description="fixed seed for reproducible stories; None = random")
    story_max_tokens: int = 260
    llama_threads: int = Field(2, description="llama.cpp threads (this machine has 2 cores)")

    # Translation.
    translate_backend: Literal["offline", "googletrans"] = "offline"
    googletrans_timeout_s: float = 5.0
    googletrans_service_url: str = Field(
        "translate.googleapis.com", description="host googletrans talks to (tests point it at a loopback fake)"
    )

    # Speech.
    voice_language: Language = Field("pt", description="default narration language")
    speech_backend_pt: Literal["rhvoice", "espeak", "transformers"] = "rhvoice"
    speech_backend_en: Literal["piper", "espeak", "transformers"] = "piper"
    vits_model_id_pt: str = "facebook/mms-tts-por"
    vits_model_id_en: str = "facebook/mms-tts-eng"
    voice_max_seconds: float = 180.0

    # Photo sources for /aleatorio.
    unsplash_access_key: SecretStr | None = None
    unsplash_api_url: str = "https://api.unsplash.com"
    unsplash_query: str = "landscape"
    unsplash_timeout_s: float = 10.0
    app_name: str = Field("conta_historias", description="utm_source for Unsplash attribution links")

    # Timeouts per stage (seconds): a stage slower than this fails, and the others still deliver.
    stage_timeout_s: float = 60.0
