"""The llama.cpp story writer: the story tier's GGUF model, streamed sentence by sentence, retried when too
short or unsuitable."""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipeline.config import PipelineSettings
from pipeline.errors import StoryError, StoryStopped
from pipeline.events import StoryOptions
from pipeline.facts import PhotoFacts
from pipeline.interfaces import SentenceSink
from pipeline.safety import is_suitable
from pipeline.story.finish import END_MARKERS, ends_sentence, finish_story, settled, story_units, word_count
from pipeline.story.models import StoryModel, choose_story_model, smollm2_model_path
from pipeline.story.prompt import (
    ENDING_WORDS,
    StoryPlan,
    chatml_prompt,
    story_plan,
    story_seed,
    token_budget,
    unguided_prompt_start,
)
from pipeline.text import split_sentences
from pipeline.threads import ThreadPacer, own_thread, run_in, stoppable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from llama_cpp import LogitsProcessorList


log = logging.getLogger(__name__)

# --- llama.cpp backend -------------------------------------------------------------------------------


# A story (or sentence) unsuitable for children is retried (never shown): `is_suitable` is pipeline/safety.py's
# English check, the one the pipeline runs again on every writer's story and its Portuguese.


def _story_score(story: str, min_words: int) -> tuple[bool, int]:
    """Higher is better: suitable first, then long enough (anything past `min_words` counts the same)."""
    return is_suitable(story), min(word_count(story), min_words)


def _end_tokens(llm: Any) -> list[int]:
    """The tokens that end the model's answer: its end-of-sequence token and the chat markers."""
    markers = [llm.tokenize(marker.encode(), add_bos=False, special=True) for marker in END_MARKERS]
    return sorted({llm.token_eos(), *(ids[0] for ids in markers if len(ids) == 1)})


class _Shown:
    """What a streaming writer has shown of a story: each unit (a sentence, a poem's line) once, in order, as soon
    as more text cannot change it; never an unsuitable one, nor anything after it."""

    def __init__(self, plan: StoryPlan, show: SentenceSink) -> None:
        self._plan = plan
        self._show = show
        self._count = 0
        self._reach(plan.start + "\n")  # our first sentence is whole already: shown before the model starts
        self.raw = ""  # the raw text whose units are all shown (the model starts after our first sentence anyway)

    def update(self, raw: str) -> bool:
        """Show the new settled units of `raw`; False at an unsuitable one (the text must end before it)."""
        done = settled(raw)
        return done == self.raw or self._reach(done)

    def story(self, raw: str) -> str:
        """The story of `raw`, all of it shown; at an unsuitable unit, the story shown until then."""
        return self._plan.finish(raw if self._reach(raw) else self.raw)

    def _reach(self, raw: str) -> bool:
        for unit in story_units(self._plan.finish(raw), self._plan.style.poem)[self._count :]:
            if not is_suitable(unit):
                return False
            self._show(unit)
            self._count += 1
        self.raw = raw
        return True


class LlamaStoryWriter:
    """SmolLM2-135M-Instruct on llama.cpp; up to `1 + retries` attempts, keeping the best story.

    The model may not end a story before the least words of its kind and length (its end tokens are held back),
    and generation stops as soon as the text passes the most words, since finish_story would cut the rest anyway
    — this bounds the time of a rambling story. An attempt is retried (with the next seed) when it is still too
    short or unsuitable for a general audience; a kind's last sentence comes after the best one.
    Streaming (`on_sentence`), nothing shown is taken back: an unsuitable sentence is never shown, its attempt
    ends before it, and the next attempt continues the story from there.
    """

    name = "llama"

    def __init__(self, settings: PipelineSettings, model: StoryModel | None = None, retries: int = 2) -> None:
        self.settings = settings
        self._model = model
        self.retries = retries
        self._llm: Any = None
        self._end_tokens: list[int] = []
        self._lock = threading.Lock()  # llama.cpp contexts are not re-entrant; also guards loading
        self._thread = own_thread("llama")  # always the same OS thread: one OpenMP team (see own_thread)
        self._pacer = ThreadPacer(lambda _: None, most=1)  # the loaded model's replaces it (see _load_locked)

    def story_model(self) -> StoryModel:
        """The model this writer runs (chosen from the settings on first use: `choose_story_model`)."""
        if self._model is None:
            self._model = choose_story_model(self.settings)
            log.info("story model", extra={"tier": self._model.tier, "why": self._model.reason})
        return self._model

    def load(self) -> None:
        self._thread.submit(self._load).result()

    def _load(self) -> None:
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.story_model().path or smollm2_model_path()),
                n_ctx=1024,
                n_batch=512,
                n_threads=self.settings.llama_threads,
                verbose=False,
            )  # no seed here: every generation passes its own
            self._end_tokens = _end_tokens(self._llm)
            self._pacer = ThreadPacer(self._set_threads, most=self.settings.llama_threads)
            if not self._guided:  # the first story of the default kind starts after its system message
                self._llm.eval(self._llm.tokenize(unguided_prompt_start().encode(), special=True))

    @property
    def _guided(self) -> bool:
        """The light tier's model is guided by a worked example and our first sentence (`story_plan`)."""
        return self.story_model().tier == "light"

    def _set_threads(self, threads: int) -> None:
        """llama.cpp's threads for the next tokens and prompts (the pacer's choice)."""
        import llama_cpp

        llama_cpp.llama_set_n_threads(self._llm.ctx, threads, threads)

    def _hold_the_end(self, too_short: Callable[[], bool]) -> LogitsProcessorList | None:
        """A logits processor that forbids the end tokens while `too_short()` (None when they are unknown)."""
        if not self._end_tokens:
            return None
        import numpy as np
        from llama_cpp import LogitsProcessorList

        ends = self._end_tokens

        def hold(input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]) -> npt.NDArray[np.single]:
            if too_short():
                scores[ends] = -np.inf
            return scores

        return LogitsProcessorList([hold])

    def _generate(
        self,
        plan: StoryPlan,
        start: str,
        seed: int,
        stop: threading.Event,
        keep_going: Callable[[str], bool],
        max_tokens: int,
    ) -> str:
        """`start` and what the model writes after it, until `keep_going(text)` is false or `stop` is set; with a
        final line break when the model ended the text itself."""
        text = start
        sampling = self.story_model().sampling
        stream = self._llm.create_completion(
            prompt=chatml_prompt(plan.messages, start),
            temperature=self.settings.story_temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            repeat_penalty=sampling.repeat_penalty,
            max_tokens=max_tokens,
            seed=seed,
            stop=["<|im_end|>", "<|im_start|>"],
            stream=True,
            logits_processor=self._hold_the_end(lambda: word_count(text) < plan.min_words),
        )
        self._pacer.begin()
        with contextlib.closing(stream):  # closing the generator ends llama.cpp's generation
            for chunk in stream:
                self._pacer.tick()
                if stop.is_set():
                    break
                choice = chunk["choices"][0]
                text += choice["text"]
                if choice.get("finish_reason") == "stop":
                    return text + "\n"
                if not keep_going(text):
                    break
        return text

    def _attempt(self, plan: StoryPlan, seed: int, stop: threading.Event, shown: _Shown | None) -> str:
        """One attempt: the model's story after our first sentence, or, streaming, after what was shown."""
        start = (shown.raw.rstrip(" ") if shown else "") or plan.start

        def keep_going(text: str) -> bool:
            return word_count(text) <= plan.body_words and (shown is None or shown.update(text))

        raw = self._generate(plan, start, seed, stop, keep_going, token_budget(self.settings, plan.body_words))
        return shown.story(raw) if shown else plan.finish(raw)

    def _best(self, plan: StoryPlan, seed: int, stop: threading.Event, on_sentence: SentenceSink | None) -> str:
        """The best of up to 1 + retries attempts (the first good one wins)."""
        shown = _Shown(plan, on_sentence) if on_sentence else None
        best = ""
        for attempt in range(1 + self.retries):
            if stop.is_set():
                break
            story = self._attempt(plan, seed + attempt, stop, shown)
            if _story_score(story, plan.min_words) > _story_score(best, plan.min_words):
                best = story
            if _story_score(best, plan.min_words) == (True, plan.min_words):
                break
            words, suitable = word_count(story), is_suitable(story)
            log.debug("story attempt %d rejected: %d words, suitable=%s", attempt + 1, words, suitable)
        return best

    def _ending(self, plan: StoryPlan, story: str, seed: int, stop: threading.Event) -> str:
        """The kind's last sentence: ours as it is, or completed by the model after `story` ("" when the model
        does not finish it within ENDING_WORDS words, or finishes it unsuitably)."""
        if plan.style.ending_mark and re.search(rf"\b{plan.style.ending_mark}\b", story, re.IGNORECASE):
            return ""  # the story has its ending already
        if not plan.ending or ends_sentence(plan.ending):
            return plan.ending
        start = f"{story} {plan.ending}"

        def one_sentence(text: str) -> bool:
            return len(split_sentences(text[len(story) :])) < 2

        raw = self._generate(plan, start, seed, stop, one_sentence, token_budget(self.settings, ENDING_WORDS))
        ending = split_sentences(finish_story(raw[len(story) :], max_words=ENDING_WORDS))[:1]
        return ending[0] if ending and is_suitable(ending[0]) else ""

    def write_sync(
        self,
        facts: PhotoFacts,
        stop: threading.Event | None = None,
        *,
        options: StoryOptions | None = None,
        on_sentence: SentenceSink | None = None,
    ) -> str:
        """Blocking: the best of up to 1 + retries attempts, then the kind's last sentence (see the class).

        Once `stop` is set, generation ends after the token being computed and no attempt starts:
        raises StoryStopped (the caller has gone, nobody reads the story).
        """
        stop = stop or threading.Event()
        seed = story_seed(self.settings, options)
        if seed is None:
            seed = random.randrange(2**31)
        with self._lock:
            self._load_locked()
            plan = story_plan(facts, options, random.Random(seed), guided=self._guided)
            story = self._best(plan, seed, stop, on_sentence)
            ending = self._ending(plan, story, seed, stop) if story else ""
        if stop.is_set():
            raise StoryStopped("the story was stopped before it was finished")
        if not story:
            raise StoryError("the model produced no complete sentence")
        if ending and on_sentence:
            on_sentence(ending)
        return f"{story} {ending}" if ending else story

    async def write(
        self, facts: PhotoFacts, options: StoryOptions | None = None, on_sentence: SentenceSink | None = None
    ) -> str:
        """`write_sync` on the model's thread; a timeout or cancellation here stops it there too."""
        return await stoppable(
            lambda stop: run_in(self._thread, self.write_sync, facts, stop, options=options, on_sentence=on_sentence)
        )
