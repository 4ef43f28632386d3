"""English caption → short English story.

Default: the story tier's GGUF model (`story/models.py`: Qwen2.5-Coder-1.5B for quality, SmolLM2-135M when light)
on llama.cpp (`story/llama.py`), offline, streamed sentence by sentence. Alternatives: a GPT-2 family model through
transformers like the original system (`story/gpt2.py`), or any OpenAI-compatible chat model (`story/openai.py`).
All write English (small models write poor Portuguese); the story is translated afterwards. Every writer plans
its story with `story/prompt.py` (the kind's rules from `story/styles.py`, the facts, the hero, the length) and
cleans the model's text with `story/finish.py`: small models ramble, echo the prompt and stop mid-sentence.
"""
