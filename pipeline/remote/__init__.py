"""Pipeline jobs on worker processes through Redis (arq): the bot stays thin, the workers hold the models.

- `wire`: Redis keys, the serializer and the JSON messages both sides exchange;
- `client`: `RemotePipeline`, the bot's side (a `StoryPipeline` like the in-process engine);
- `job`: `story_job`, what a worker (`worker.py`) runs for each photo.

The photo travels as the media server's URL (workers fetch it, as the original captioning service did) or as
bytes. Importing this package loads no model: only `job` imports the engine.
"""

from .client import RemotePipeline, build_pipeline
from .wire import JOB_NAME, Message, deserialize, redis_settings, serialize, worker_health_key

__all__ = [
    "JOB_NAME",
    "Message",
    "RemotePipeline",
    "build_pipeline",
    "deserialize",
    "redis_settings",
    "serialize",
    "worker_health_key",
]
