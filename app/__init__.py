"""The application around the Telegram-free pipeline: what the bot, the worker and the CLI share.

Settings and logging, the photo sources of /aleatorio (the bundled gallery, Unsplash), the admission queue
that keeps the machine from drowning, the media server that hosts photos at expiring URLs, health and
metrics, and the command line (`python -m app PHOTO`). It imports the pipeline, never the other way round,
and knows no Telegram: that lives in `handlers/`.
"""
