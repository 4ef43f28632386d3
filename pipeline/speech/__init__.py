"""Text → Telegram voice message (OGG/Opus, mono), with offline voices.

Backends: RHVoice Letícia (Portuguese default: the most intelligible pt-BR voice any reachable registry
ships), Piper Joe (English default, neural), espeak-ng (robotic last resort, both languages) and
transformers VITS (the original system's model family, e.g. facebook/mms-tts-por).

Every backend (`speech/synthesizers.py`) shares the same path: narration.prepare_narration cleans the text and
cuts it into chunks of whole sentences (capped at settings.voice_max_seconds); the backend renders audio pieces;
`assemble` joins them with short pauses and fades (no clicks), trims and shortens long silences and normalises the
peak; `encode_opus` writes OGG/Opus with the system's libopus (`speech/opus.py`; libsndfile as a fallback), with
no ffmpeg, at a speech bitrate that keeps even the longest message under 1 MB (Telegram plays a voice
sent by URL only up to 1 MB).
Everything runs in the background pool (`threads.run_background`), off the event loop.
"""
