"""The captioner's networks in ONNX Runtime: the same numbers as in PyTorch, safe on two threads at once,
exported once into the model cache and then run without PyTorch."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="PyTorch is not installed (the light venv of `make test-quick`)")

import torch
from PIL import Image

from pipeline.backends import build_captioner
from pipeline.caption.captioners import CLASSIFIER_INPUT_SIZES, ClassifierCaptioner, classifier_network
from pipeline.caption.faces import EXPORT_SHAPES, network
from pipeline.caption.onnx_models import OnnxModel, cached_session, export_onnx, onnx_session
from pipeline.config import PipelineSettings, cache_folder
from pipeline.images import decode_image

ROOT = Path(__file__).parents[2]
EVERYDAY = Path(__file__).parents[1] / "data" / "everyday"
PHOTOS = ("three-friends.jpg", "german-shepherd.jpg", "pizza.jpg", "couple-with-wine.jpg")
TOLERANCE = 1e-4

pytestmark = pytest.mark.models  # PyTorch and ONNX Runtime, the real networks or tiny ones built here


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


def test_the_real_networks_give_the_same_outputs() -> None:
    rng = np.random.default_rng(2)
    size = CLASSIFIER_INPUT_SIZES["lite0"]
    classifier = classifier_network("lite0")
    model = onnx_session(classifier, torch.zeros(2, 3, size, size))
    assert_same_outputs(classifier, model, rng.standard_normal((3, 3, size, size), dtype=np.float32))
    for index, batch_shape in enumerate(((1, 3, 87, 131), (17, 3, 24, 24), (5, 3, 48, 48))):
        net, (shape, axes) = network(index), EXPORT_SHAPES[index]
        model = onnx_session(net, torch.zeros(shape), axes)
        assert_same_outputs(net, model, rng.uniform(-1, 1, batch_shape).astype(np.float32))


def load_everyday(name: str) -> Image.Image:
    return decode_image((EVERYDAY / name).read_bytes(), max_bytes=10_000_000, max_pixels=50_000_000).image


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


# --- the model cache ----------------------------------------------------------------------------------------


class Exports:
    """An `export` callable for `cached_session` that counts its calls."""

    def __init__(self, module: torch.nn.Module, example: torch.Tensor) -> None:
        self.module, self.example, self.calls = module, example, 0

    def __call__(self) -> bytes:
        self.calls += 1
        return export_onnx(self.module, self.example)


def tiny_linear() -> torch.nn.Module:
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Softmax(dim=1)).eval()


def test_the_cache_exports_once_then_reads_the_file(tmp_path: Path) -> None:
    module, weights = tiny_linear(), tmp_path / "weights.bin"
    weights.write_bytes(b"first weights")
    export = Exports(module, torch.zeros(2, 5))
    batch = np.random.default_rng(4).standard_normal((4, 5), dtype=np.float32)
    first = cached_session("tiny", export, key=[weights, "(N, 5)"], cache_dir=tmp_path / "cache")
    assert export.calls == 1
    files = sorted((tmp_path / "cache").iterdir())
    assert [f.name.startswith("tiny-") and f.suffix == ".onnx" for f in files] == [True]  # no temporary left
    assert files[0].stat().st_mode & 0o777 == 0o644  # readable by another user (the image's cache)
    again = cached_session("tiny", export, key=[weights, "(N, 5)"], cache_dir=tmp_path / "cache")
    assert export.calls == 1
    np.testing.assert_array_equal(again(batch)[0], first(batch)[0])
    assert_same_outputs(module, again, batch)
    # what determines the file is in its name: other weights (by content) or shapes make another file
    weights.write_bytes(b"other weights")
    cached_session("tiny", export, key=[weights, "(N, 5)"], cache_dir=tmp_path / "cache")
    cached_session("tiny", export, key=[weights, "(N, 6)"], cache_dir=tmp_path / "cache")
    assert export.calls == 3 and len(list((tmp_path / "cache").iterdir())) == 3


def test_an_unwritable_cache_costs_an_export_and_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / "a-file" / "cache"  # cannot be created, even by root
    export = Exports(tiny_linear(), torch.zeros(2, 5))
    batch = np.ones((1, 5), dtype=np.float32)
    with caplog.at_level(logging.DEBUG, logger="pipeline.caption.onnx_models"):
        models = [cached_session("tiny", export, key=["k"], cache_dir=folder) for _ in range(2)]
    assert export.calls == 2 and all(len(m(batch)) == 1 for m in models)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(folder) in warnings[0].getMessage()


def test_without_a_home_folder_the_models_are_exported_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", no_home)
    export = Exports(tiny_linear(), torch.zeros(2, 5))
    model = cached_session("tiny", export, key=["k"])
    assert export.calls == 1 and len(model(np.ones((1, 5), dtype=np.float32))) == 1


def test_a_damaged_file_is_exported_again(tmp_path: Path) -> None:
    module = tiny_linear()
    export = Exports(module, torch.zeros(2, 5))
    cached_session("tiny", export, key=["k"], cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:100])  # cut short
    model = cached_session("tiny", export, key=["k"], cache_dir=tmp_path)
    assert export.calls == 2
    assert_same_outputs(module, model, np.ones((2, 5), dtype=np.float32))
    cached_session("tiny", export, key=["k"], cache_dir=tmp_path)
    assert export.calls == 2  # written whole again


def test_where_the_cache_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert cache_folder(tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "conta-historias"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unset in ("", "relative/path"):  # the XDG spec ignores relative paths
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert cache_folder() == tmp_path / "home" / ".cache" / "conta-historias"
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "setting"))
    captioner = build_captioner(PipelineSettings(_env_file=None))
    assert isinstance(captioner, ClassifierCaptioner) and captioner.cache_dir == tmp_path / "setting"


NO_TORCH = """
import json, sys
from pipeline.backends import build_captioner
from pipeline.config import PipelineSettings
from pipeline.images import decode_image
captioner = build_captioner(PipelineSettings(_env_file=None))
captioner.load()
photo = decode_image(open(sys.argv[1], "rb").read(), max_bytes=10_000_000, max_pixels=50_000_000).image
facts = captioner._caption_sync(photo)
print(json.dumps({"caption": facts.caption, "people": facts.people, "imported": sorted(
    name for name in ("torch", "onnx", "efficientnet_lite_pytorch") if name in sys.modules)}))
"""


def test_with_the_files_cached_the_captioner_never_imports_torch(tmp_path: Path) -> None:
    photo = EVERYDAY / "three-friends.jpg"
    captioner = ClassifierCaptioner(cache_dir=tmp_path)  # fills the cache (this process has torch anyway)
    captioner.load()
    expected = captioner._caption_sync(load_everyday(photo.name))
    assert len(list(tmp_path.glob("*.onnx"))) == 5  # two classifiers, three MTCNN stages
    env = {**os.environ, "MODEL_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(photo)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen == {"caption": expected.caption, "people": expected.people, "imported": []}
    assert expected.people == 3


def test_the_image_fills_the_cache_before_dropping_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    runtime = text[text.index("AS runtime") :]
    assert "MODEL_CACHE_DIR=/opt/" in runtime
    fill = runtime.index("build_captioner(PipelineSettings()).load()")
    assert runtime.index("COPY . .") < fill < runtime.index("USER ")
