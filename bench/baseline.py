"""The yardstick: the original system's model architectures, with random weights, on this CPU.

Random weights cost exactly what trained ones cost per token and per audio frame, and need no download.
Run in its own process (`python -m bench.baseline`, a JSON spec on stdin, a JSON report on stdout) so that
its ~1 GB of models and its torch thread setting never touch the measured bot process.

- BLIP-base captioning (BlipConfig defaults: ViT-B/16 at 384 px + BERT-base decoder): the real photo
  through BLIP's image processor, then greedy decoding of exactly `blip_tokens` new tokens.
- GPT-2 small (GPT2Config defaults) generating exactly as many tokens as our median story.
- VITS of the LJSpeech model's size (VitsConfig defaults, labelled 22050 Hz like espnet's LJSpeech VITS,
  hop 256). Random weights would predict ~1 frame per input token, far shorter than speech, so the speaking
  rate is set so that the audio lasts as long as our English narration of the same story: the compute
  then matches a real voice reading it. Decoding cost is linear in audio length, so it is measured on a
  piece of the story (`vits_piece_s` of audio) and scaled to the whole story by the real-time factor.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .system import peak_rss_mb

REPO = Path(__file__).resolve().parent.parent


def run_baseline(spec: dict[str, Any], timeout_s: float = 1200.0) -> dict[str, Any]:
    """Run the baseline in a child process and return its report."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.baseline"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout_s,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"baseline failed (exit {done.returncode}): {done.stderr[-1500:]}")
    return json.loads(lines[-1])


# --- the child ---------------------------------------------------------------------------------------


def _time_runs(repeats: int, once: Callable[[], Any]) -> tuple[list[float], Any]:
    runs, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = once()
        runs.append(time.perf_counter() - started)
    return runs, result


def measure_blip(photo: Path, new_tokens: int, repeats: int) -> dict[str, Any]:
    import torch
    from PIL import Image
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessorPil

    model = BlipForConditionalGeneration(BlipConfig()).eval()
    processor = BlipImageProcessorPil()
    image = Image.open(photo).convert("RGB")

    def once(tokens: int = new_tokens) -> int:
        with torch.inference_mode():
            pixels = processor(images=image, return_tensors="pt")["pixel_values"]
            output = model.generate(
                pixel_values=pixels, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, num_beams=1
            )
        return int(output.shape[-1])

    once(2)  # warm: the original served from a loaded model
    runs, length = _time_runs(repeats, once)
    return {"runs": runs, "seconds": statistics.median(runs), "new_tokens": new_tokens, "output_length": length}


def measure_gpt2(target_tokens: int, measured_tokens: int, prompt_tokens: int, repeats: int) -> dict[str, Any]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config()
    model = GPT2LMHeadModel(config).eval()
    prompt = torch.randint(0, config.vocab_size, (1, prompt_tokens))

    def once(tokens: int = measured_tokens) -> int:
        with torch.inference_mode():
            output = model.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=tokens,
                min_new_tokens=tokens,
                do_sample=False,
                pad_token_id=config.eos_token_id,
            )
        return int(output.shape[-1]) - prompt_tokens

    once(2)
    runs, generated = _time_runs(repeats, once)
    median = statistics.median(runs)
    return {
        "runs": runs,
        "tokens_measured": generated,
        "tokens_target": target_tokens,
        "prompt_tokens": prompt_tokens,
        "seconds_per_token": median / generated,
        "seconds": median * target_tokens / generated,
        "extrapolated": generated != target_tokens,
    }


class _Stop(Exception):
    """Raised from a hook to end a forward pass once the durations are known."""


def measure_vits(text_chars: int, target_audio_s: float, piece_s: float, repeats: int, seed: int) -> dict[str, Any]:
    import torch
    from transformers import VitsConfig, VitsModel

    config = VitsConfig(sampling_rate=22050)
    model = VitsModel(config).eval()
    hop = math.prod(config.upsample_rates)
    chars_per_s = text_chars / target_audio_s
    piece_chars = max(8, min(text_chars, round(piece_s * chars_per_s)))
    ids = torch.randint(1, config.vocab_size, (1, piece_chars))
    target_frames = piece_chars / chars_per_s * config.sampling_rate / hop

    # The durations the model predicts (seeded noise), without running the decoder: then the speaking
    # rate that gives the target length is found by bisection on the cheap formula VitsModel uses.
    captured: dict[str, torch.Tensor] = {}

    def grab(_module: Any, _args: Any, output: torch.Tensor) -> None:
        captured["log_duration"] = output
        raise _Stop

    handle = model.duration_predictor.register_forward_hook(grab)
    torch.manual_seed(seed)
    try:
        with torch.inference_mode():
            model(input_ids=ids)
    except _Stop:
        pass
    finally:
        handle.remove()
    durations = torch.exp(captured["log_duration"])

    def frames(rate: float) -> float:
        return float(torch.ceil(durations / rate).sum())

    low, high = 1e-3, 1e3  # frames(rate) decreases with rate
    for _ in range(60):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if frames(mid) > target_frames else (low, mid)
    rate = math.sqrt(low * high)

    def once() -> float:
        torch.manual_seed(seed)
        with torch.inference_mode():
            waveform = model(input_ids=ids, speaking_rate=rate).waveform
        return waveform.shape[-1] / config.sampling_rate

    with torch.inference_mode():
        model(input_ids=ids[:, :8])  # warm
    runs, audio_s = _time_runs(repeats, once)
    rtf = statistics.median(runs) / audio_s
    return {
        "runs": runs,
        "input_ids": piece_chars,
        "audio_s_per_run": audio_s,
        "sampling_rate": config.sampling_rate,
        "speaking_rate": rate,
        "rtf": rtf,
        "rtf_if_labelled_16khz": rtf * 16000 / config.sampling_rate,
        "target_audio_s": target_audio_s,
        "seconds": rtf * target_audio_s,
        "extrapolated": piece_chars != text_chars,
    }


def main() -> None:
    import gc

    import torch

    spec = json.loads(sys.stdin.read())
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    report: dict[str, Any] = {"threads": spec["threads"], "torch": torch.__version__}
    report["blip"] = measure_blip(Path(spec["photo"]), spec["blip_tokens"], spec["repeats"])
    gc.collect()
    report["gpt2"] = measure_gpt2(
        spec["gpt2_tokens"], spec.get("gpt2_measured_tokens", spec["gpt2_tokens"]), spec["gpt2_prompt_tokens"],
        spec["repeats"],
    )  # fmt: skip
    gc.collect()
    report["vits"] = measure_vits(
        spec["text_chars"], spec["target_audio_s"], spec["vits_piece_s"], spec["repeats"], spec["seed"]
    )
    report["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
