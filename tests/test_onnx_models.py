"""The captioner's networks in ONNX Runtime: the same numbers as in PyTorch, and safe on two threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline.caption import CLASSIFIER_INPUT_SIZES, ClassifierCaptioner, classifier_network
from pipeline.faces import EXPORT_SHAPES, networks
from pipeline.images import decode_image
from pipeline.onnx_models import OnnxModel, onnx_session

EVERYDAY = Path(__file__).parent / "data" / "everyday"
PHOTOS = ("three-friends.jpg", "german-shepherd.jpg", "pizza.jpg", "couple-with-wine.jpg")
TOLERANCE = 1e-4


def torch_outputs(module: torch.nn.Module, batch: np.ndarray) -> list[np.ndarray]:
    with torch.inference_mode():
        outputs = module(torch.from_numpy(batch))
    return [t.numpy() for t in (outputs if isinstance(outputs, tuple) else (outputs,))]


def assert_same_outputs(module: torch.nn.Module, model: OnnxModel, batch: np.ndarray) -> None:
    expected, got = torch_outputs(module, batch), model(batch)
    assert [a.shape for a in got] == [a.shape for a in expected]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCE)


class Tiny(torch.nn.Module):
    """A small fully convolutional network with two outputs, like MTCNN's P-Net."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.prelu = torch.nn.Conv2d(3, 6, 3), torch.nn.PReLU(6)
        self.pool = torch.nn.MaxPool2d(2, 2, ceil_mode=True)
        self.boxes, self.classes = torch.nn.Conv2d(6, 4, 1), torch.nn.Conv2d(6, 2, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool(self.prelu(self.conv(x)))
        return self.boxes(x), self.classes(x).softmax(dim=1)


def test_a_tiny_network_gives_the_same_outputs_at_any_batch_and_size() -> None:
    torch.manual_seed(0)
    module = Tiny().eval()
    model = onnx_session(module, torch.zeros(1, 3, 16, 20), dynamic_axes=(0, 2, 3))
    rng = np.random.default_rng(0)
    for shape in ((1, 3, 16, 20), (3, 3, 31, 17), (2, 3, 12, 12)):
        assert_same_outputs(module, model, rng.standard_normal(shape, dtype=np.float32))


def test_a_single_output_comes_back_as_a_list_of_one() -> None:
    module = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Softmax(dim=1)).eval()
    model = onnx_session(module, torch.zeros(2, 5))
    batch = np.random.default_rng(1).standard_normal((7, 5), dtype=np.float32)
    assert_same_outputs(module, model, batch)
    assert len(model(batch)) == 1


@pytest.mark.slow
def test_the_real_networks_give_the_same_outputs() -> None:
    rng = np.random.default_rng(2)
    size = CLASSIFIER_INPUT_SIZES["lite0"]
    classifier = classifier_network("lite0")
    model = onnx_session(classifier, torch.zeros(2, 3, size, size))
    assert_same_outputs(classifier, model, rng.standard_normal((3, 3, size, size), dtype=np.float32))
    for net, (shape, axes), batch_shape in zip(
        networks(), EXPORT_SHAPES, ((1, 3, 87, 131), (17, 3, 24, 24), (5, 3, 48, 48)), strict=True
    ):
        model = onnx_session(net, torch.zeros(shape), axes)
        assert_same_outputs(net, model, rng.uniform(-1, 1, batch_shape).astype(np.float32))


def load_everyday(name: str) -> Image.Image:
    return decode_image((EVERYDAY / name).read_bytes(), max_bytes=10_000_000, max_pixels=50_000_000).image


@pytest.mark.slow
def test_two_threads_at_once_see_what_one_sees_alone() -> None:
    captioner = ClassifierCaptioner(threads=1)
    captioner.load()
    assert captioner.concurrent
    photos = [load_everyday(name) for name in PHOTOS]
    alone = [captioner.evidence(photo) for photo in photos]
    with ThreadPoolExecutor(2) as pool:  # each photo twice, the two threads always busy at once
        together = list(pool.map(captioner.evidence, photos + photos))
    for expected, got in zip(alone + alone, together, strict=True):
        np.testing.assert_array_equal(got.probs, expected.probs)
        assert got.faces == expected.faces
    assert [f.people for f in map(captioner._caption_sync, photos)] == [3, 0, 0, 2]
