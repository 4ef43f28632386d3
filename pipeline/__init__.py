"""Conta-Histórias pipeline: a photo becomes captions, a story and a voice — with no Telegram inside.

    from pipeline.core import Pipeline
    pipeline = Pipeline()
    await pipeline.warm_up()
    result = await pipeline.run("photo.jpg")          # or bytes, or an http(s) URL
    async for event in pipeline.stream(photo): ...     # CaptionReady, StoryReady, VoiceReady as they happen

Importing the package is cheap; the models' libraries load with `pipeline.core`.
"""
