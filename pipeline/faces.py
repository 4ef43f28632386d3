"""Faces in a photo, so that the caption can say "a person", "two people" or "a crowd".

ImageNet-1k has no person class, so the captioner asks a face detector: MTCNN (Zhang et al. 2016), with the
weights that the `facenet-pytorch` wheel ships (MIT; 2 MB in `facenet_pytorch/data`). The wheel is installed
without its dependencies and never imported: its code pins torch < 2.3 and needs torchvision (whose PyPI
wheel is built for CUDA), so the three small networks and the cascade that joins them are written here,
following facenet-pytorch's `models/mtcnn.py` and `models/utils/detect_face.py`.

The cascade: a fully convolutional P-Net proposes 12×12 windows over an image pyramid, R-Net (24×24) and
O-Net (48×48) re-score and refine them, with non-maximum suppression between stages. The photo is shrunk
to `max_side` first, which keeps one detection at a few tens of milliseconds on one core. The networks run
in ONNX Runtime (`onnx_models.py`: same numbers, faster); PyTorch resizes the pyramid and the crops.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from .describe import Face

if TYPE_CHECKING:
    import torch

    from .onnx_models import OnnxModel

# Per-stage thresholds (P-Net, R-Net, O-Net) as in facenet-pytorch; the last stage's probability is the
# face's. Below MIN_FACE_PROBABILITY a texture (bark, rocks, a pattern) can pass for a face. A big face is
# seen at a high resolution, where real faces score 0.9999: a big "face" below that is a shape in a
# landscape (a lake at sunset scored 0.998).
STAGE_THRESHOLDS = (0.6, 0.7, 0.7)
MIN_FACE_PROBABILITY = 0.95
BIG_FACE = 0.4  # of the image's height
MIN_BIG_FACE_PROBABILITY = 0.9995
PYRAMID_FACTOR = 0.709


def weights_folder() -> Path:
    """facenet-pytorch's `data` folder, found without importing the package."""
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package facenet-pytorch is not installed (pip install --no-deps facenet-pytorch)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def networks() -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """P-Net, R-Net and O-Net in PyTorch, with facenet-pytorch's weights, in eval mode."""
    import torch

    nets = _networks()
    for net, name in zip(nets, ("pnet", "rnet", "onet"), strict=True):
        net.load_state_dict(torch.load(weights_folder() / f"{name}.pt", map_location="cpu", weights_only=True))
        net.eval()
    return nets


# The input each network is exported with, and the axes whose size changes: P-Net is fully convolutional (any
# height and width: the pyramid's levels); R-Net and O-Net take any number of crops.
EXPORT_SHAPES = (((1, 3, 48, 64), (0, 2, 3)), ((2, 3, 24, 24), (0,)), ((2, 3, 48, 48), (0,)))


def _networks() -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """P-Net, R-Net and O-Net, with facenet-pytorch's layer names (so its state dicts load as they are)."""
    from torch import nn

    class PNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
            self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
            self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
            self.conv4_1, self.conv4_2 = nn.Conv2d(32, 2, 1), nn.Conv2d(32, 4, 1)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
            return self.conv4_2(x), self.conv4_1(x).softmax(dim=1)

    class RNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
            self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
            self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
            self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
            self.dense5_1, self.dense5_2 = nn.Linear(128, 2), nn.Linear(128, 4)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.pool2(self.prelu2(self.conv2(x)))
            x = self.prelu3(self.conv3(x)).permute(0, 3, 2, 1).contiguous()
            x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))
            return self.dense5_2(x), self.dense5_1(x).softmax(dim=1)

    class ONet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
            self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
            self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
            self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
            self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
            self.dense6_1, self.dense6_2, self.dense6_3 = nn.Linear(256, 2), nn.Linear(256, 4), nn.Linear(256, 10)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.pool2(self.prelu2(self.conv2(x)))
            x = self.pool3(self.prelu3(self.conv3(x)))
            x = self.prelu4(self.conv4(x)).permute(0, 3, 2, 1).contiguous()
            x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
            return self.dense6_2(x), self.dense6_1(x).softmax(dim=1)

    return PNet(), RNet(), ONet()


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, *, by_min: bool = False) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression (overlap over union, or over the smaller)."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = np.argsort(scores)[::-1], []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    boxes[:, 0] += w * 0.5 - side * 0.5
    boxes[:, 1] += h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, 0:2] + side[:, None]
    return boxes


def _refine(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, :4] += offsets * np.stack([w, h, w, h], axis=1)
    return boxes


class FaceDetector:
    """MTCNN on CPU. `detect` is thread-safe once loaded; `load` is not (the captioner loads under its lock)."""

    def __init__(self, *, max_side: int = 448, min_probability: float = MIN_FACE_PROBABILITY, threads: int = 1) -> None:
        self.max_side = max_side
        self.min_probability = min_probability
        self.min_face = max(12, round(0.03 * max_side))  # pixels, in the shrunk photo
        self.threads = threads  # of each ONNX Runtime session (at least 1)
        self._nets: tuple[OnnxModel, OnnxModel, OnnxModel] | None = None

    def load(self) -> None:
        """The three networks, exported to ONNX Runtime sessions (the PyTorch modules are not kept)."""
        if self._nets is None:
            import torch

            from .onnx_models import onnx_session

            pnet, rnet, onet = (
                onnx_session(net, torch.zeros(shape), axes, threads=self.threads)
                for net, (shape, axes) in zip(networks(), EXPORT_SHAPES, strict=True)
            )
            self._nets = (pnet, rnet, onet)

    def detect(self, image: Image.Image) -> tuple[Face, ...]:
        """The faces found, largest first, as fractions of the image's size."""
        import torch

        self.load()
        small = ImageOps.contain(image.convert("RGB"), (self.max_side, self.max_side), Image.Resampling.BILINEAR)
        width, height = small.size
        pixels = torch.from_numpy(np.asarray(small, dtype=np.float32).transpose(2, 0, 1).copy())[None]
        with torch.inference_mode():
            boxes = self._propose(pixels)
            for stage, size in ((1, 24), (2, 48)):
                if not len(boxes):
                    return ()
                boxes = self._rescore(pixels, boxes, stage, size)
        faces = [
            Face(
                left=max(0.0, float(b[0]) / width),
                top=max(0.0, float(b[1]) / height),
                right=min(1.0, float(b[2]) / width),
                bottom=min(1.0, float(b[3]) / height),
                probability=float(b[4]),
            )
            for b in boxes
            if b[4] >= (MIN_BIG_FACE_PROBABILITY if (b[3] - b[1]) / height >= BIG_FACE else self.min_probability)
        ]
        return tuple(sorted(faces, key=lambda f: f.height, reverse=True))

    def _propose(self, pixels: torch.Tensor) -> np.ndarray:
        """P-Net over the image pyramid: candidate boxes (x1, y1, x2, y2, score), squared."""
        import torch.nn.functional as F

        assert self._nets is not None
        height, width = pixels.shape[2:]
        scale, found = 12.0 / self.min_face, []
        while min(height, width) * scale >= 12:
            resized = F.interpolate(pixels, size=(int(height * scale + 1), int(width * scale + 1)), mode="area")
            offsets, probs = self._nets[0](((resized - 127.5) * 0.0078125).numpy())
            score, offsets = probs[0, 1], offsets[0]
            ys, xs = np.nonzero(score >= STAGE_THRESHOLDS[0])
            if len(ys):
                cells = np.stack([xs, ys], axis=1).astype(np.float32)
                boxes = np.concatenate(
                    [
                        np.floor((2 * cells + 1) / scale),
                        np.floor((2 * cells + 12) / scale),
                        score[ys, xs][:, None],
                        offsets[:, ys, xs].T,
                    ],
                    axis=1,
                )
                found.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
            scale *= PYRAMID_FACTOR
        if not found:
            return np.zeros((0, 5), dtype=np.float32)
        boxes = np.concatenate(found)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        boxes[:, :4] += boxes[:, 5:9] * np.stack([w, h, w, h], axis=1)
        return _square(boxes[:, :5])

    def _rescore(self, pixels: torch.Tensor, boxes: np.ndarray, stage: int, size: int) -> np.ndarray:
        """R-Net (stage 1) or O-Net (stage 2) on each candidate, resized to `size`: kept, refined boxes."""
        import torch
        import torch.nn.functional as F

        assert self._nets is not None
        height, width = pixels.shape[2:]
        crops, kept = [], []
        for i, (x1, y1, x2, y2) in enumerate(np.trunc(boxes[:, :4]).astype(int)):
            x1, y1, x2, y2 = max(x1, 1), max(y1, 1), min(x2, width), min(y2, height)
            if x2 > x1 - 1 and y2 > y1 - 1:
                crop = pixels[:, :, y1 - 1 : y2, x1 - 1 : x2]
                crops.append(F.interpolate(crop, size=(size, size), mode="area"))
                kept.append(i)
        if not crops:
            return np.zeros((0, 5), dtype=np.float32)
        offsets, probs = self._nets[stage](((torch.cat(crops) - 127.5) * 0.0078125).numpy())
        score = probs[:, 1]
        passed = score > STAGE_THRESHOLDS[stage]
        boxes = np.concatenate([boxes[kept][passed, :4], score[passed, None]], axis=1)
        offsets = offsets[passed]
        if stage == 1:
            keep = nms(boxes[:, :4], boxes[:, 4], 0.7)
            return _square(_refine(boxes[keep], offsets[keep]))
        boxes = _refine(boxes, offsets)
        return boxes[nms(boxes[:, :4], boxes[:, 4], 0.7, by_min=True)]
