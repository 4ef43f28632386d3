"""The application around the Telegram-free pipeline: what the bot, the worker and the CLI share.

Settings and logging, the photo sources of /aleatorio (the bundled gallery, Unsplash), the admission queue
that keeps the machine from drowning, the media server that hosts photos at expiring URLs for the Redis
workers, health and metrics, and the command line (`python -m app PHOTO`); `services` assembles them from the
settings for the bot, the web page and the test harnesses. It imports the pipeline, never the other way round,
and knows no Telegram: that lives in `handlers/`.
"""
