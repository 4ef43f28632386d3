"""Pipeline jobs on worker processes through Redis (arq): the bot stays thin, the workers hold the models.

- `wire`: Redis keys, the serializer and the JSON messages both sides exchange;
- `client`: `RemotePipeline`, the bot's side (a `StoryPipeline` like the in-process engine);
- `job`: `story_job` (a story, from a photo or a caption) and `describe_job` (a caption), what a worker
  (`worker.py`) runs.

The photo travels as the media server's URL (workers fetch it, as the original captioning service did) or as
bytes; a story that continues from a caption (`stream(caption=...)`) carries the caption's facts instead. The job
requests are versioned (`wire.WIRE_VERSION`). Importing this package loads no model: only `job` imports the engine.
"""

from pipeline.remote.client import RemotePipeline, build_pipeline
from pipeline.remote.wire import (
    DESCRIBE_JOB_NAME,
    JOB_NAME,
    Message,
    deserialize,
    redis_settings,
    serialize,
    worker_health_key,
)

__all__ = [
    "DESCRIBE_JOB_NAME",
    "JOB_NAME",
    "Message",
    "RemotePipeline",
    "build_pipeline",
    "deserialize",
    "redis_settings",
    "serialize",
    "worker_health_key",
]
