"""The transformers story writer: a GPT-2 family model continuing a prompt, like the original system."""

from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING, Any, cast

from pipeline.config import PipelineSettings
from pipeline.errors import StoryError, StoryStopped
from pipeline.events import StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink
from pipeline.story.prompt import story_plan, story_seed, token_budget
from pipeline.threads import run_background, stoppable

if TYPE_CHECKING:
    from transformers import StoppingCriteriaList


# --- transformers backend (GPT-2 family) -------------------------------------------------------------

GPT2_PROMPT = "Here is {title} about {caption}.\n\n"
# GPT-2 is not instruction-tuned: it continues text. The story itself starts with this opener, which
# is kept (it is story, not prompt); the line above it is not.
GPT2_OPENER = "Once upon a time,"


def _stop_when_set(stop: threading.Event) -> StoppingCriteriaList:
    """transformers stopping criteria that end generate() at the next token once `stop` is set.

    Built here, not at import, because transformers is imported lazily (only this backend needs it)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhenSet(StoppingCriteria):
        def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
            done = torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)
            return cast("torch.BoolTensor", done)

    return StoppingCriteriaList([StopWhenSet()])


class TransformersStoryWriter:
    """A causal LM from transformers (GPT-2 by default, like the original system) continuing a prompt."""

    name = "transformers"

    def __init__(self, settings: PipelineSettings, model: Any = None, tokenizer: Any = None) -> None:
        self.settings = settings
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # generate() is not safe to run concurrently on one model

    def load(self) -> None:
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is None or self._tokenizer is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            model_id = self.settings.story_model_id
            self._tokenizer = self._tokenizer or AutoTokenizer.from_pretrained(model_id)
            self._model = self._model or AutoModelForCausalLM.from_pretrained(model_id)
        self._model.eval()

    def write_sync(
        self, facts: PhotoFacts, stop: threading.Event | None = None, options: StoryOptions | None = None
    ) -> str:
        """Blocking; once `stop` is set, generate() ends after the current token and StoryStopped is raised."""
        import torch

        stop = stop or threading.Event()
        seed = story_seed(self.settings, options)
        plan = story_plan(facts, options, random.Random(seed))
        caption = facts.caption.strip().rstrip(".")
        prompt = GPT2_PROMPT.format(title=plan.style.title, caption=caption) + GPT2_OPENER
        with self._lock:
            if stop.is_set():  # given up while waiting for the model
                raise StoryStopped("the story was stopped before it started")
            self._load_locked()
            if seed is not None:
                torch.manual_seed(seed)
            inputs = self._tokenizer(prompt, return_tensors="pt")
            pad_id = self._tokenizer.pad_token_id
            if pad_id is None:
                pad_id = self._tokenizer.eos_token_id
            with torch.inference_mode():
                output = self._model.generate(
                    **inputs,
                    do_sample=True,
                    temperature=self.settings.story_temperature,
                    top_p=0.9,
                    repetition_penalty=1.2,
                    no_repeat_ngram_size=3,
                    max_new_tokens=token_budget(self.settings, plan.max_words),
                    pad_token_id=pad_id,
                    stopping_criteria=_stop_when_set(stop),
                )
        if stop.is_set():
            raise StoryStopped("the story was stopped before it was finished")
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        continuation = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        story = plan.finish(f"{GPT2_OPENER} {continuation.lstrip()}")
        if not story:
            raise StoryError("the model produced no complete sentence")
        return story

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """`write_sync` in the background pool (it does not stream); a timeout or cancellation here stops
        generate() there too."""
        return await stoppable(lambda stop: run_background(self.write_sync, facts, stop, options))
