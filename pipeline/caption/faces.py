"""Faces in a photo, so that the caption can say "a person", "two people" or "a crowd".

ImageNet-1k has no person class, so the captioner asks a face detector: MTCNN (Zhang et al. 2016), with the
weights that the `facenet-pytorch` wheel ships (MIT; 2 MB in `facenet_pytorch/data`). The wheel is installed
without its dependencies and never imported: its code pins torch < 2.3 and needs torchvision (whose PyPI
wheel is built for CUDA), so the three small networks and the cascade that joins them are written here,
following facenet-pytorch's `models/mtcnn.py` and `models/utils/detect_face.py`.

The cascade: a fully convolutional P-Net proposes 12×12 windows over an image pyramid, R-Net (24×24) and
O-Net (48×48) re-score and refine them, with non-maximum suppression between stages. The photo is shrunk
to `max_side` first, which keeps one detection at a few tens of milliseconds on one core. The networks run
in ONNX Runtime (`onnx_models.py`: same numbers, faster; exported once, then read from the model cache);
numpy resizes the pyramid and the crops (`AreaResizer`, PyTorch's "area" mode). So detection itself never
imports PyTorch: only a missing cache file does, to export it.
"""

from __future__ import annotations

import importlib.util
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from pipeline.caption.evidence import Face

if TYPE_CHECKING:
    import torch

    from pipeline.caption.onnx_models import OnnxModel

# Per-stage thresholds (P-Net, R-Net, O-Net) as in facenet-pytorch; the last stage's probability is the
# face's. Below MIN_FACE_PROBABILITY a texture (bark, rocks, a pattern) can pass for a face. A big face is
# seen at a high resolution, where real faces score 0.9999: a big "face" below that is a shape in a
# landscape (a lake at sunset scored 0.998).
STAGE_THRESHOLDS = (0.6, 0.7, 0.7)
MIN_FACE_PROBABILITY = 0.95
BIG_FACE = 0.4  # of the image's height
MIN_BIG_FACE_PROBABILITY = 0.9995
PYRAMID_FACTOR = 0.709
# R-Net and O-Net see the candidates in batches of at most this many: a busy photo has 700 candidates (+60 MB
# in one batch).
CROPS_PER_RUN = 64


def weights_folder() -> Path:
    """facenet-pytorch's `data` folder, found without importing the package."""
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package facenet-pytorch is not installed (pip install --no-deps facenet-pytorch)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


NAMES = ("pnet", "rnet", "onet")


def network(index: int) -> torch.nn.Module:
    """Network `index` of the cascade (0 P-Net, 1 R-Net, 2 O-Net) in PyTorch, with its weights, in eval mode."""
    import torch

    net = _networks()[index]
    net.load_state_dict(torch.load(weights_folder() / f"{NAMES[index]}.pt", map_location="cpu", weights_only=True))
    return net.eval()


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

    def __init__(
        self,
        *,
        max_side: int = 448,
        min_probability: float = MIN_FACE_PROBABILITY,
        threads: int = 1,
        cache_dir: Path | None = None,
    ) -> None:
        self.max_side = max_side
        self.min_probability = min_probability
        self.min_face = max(12, round(0.03 * max_side))  # pixels, in the shrunk photo
        self.threads = threads  # of each ONNX Runtime session (at least 1)
        self.cache_dir = cache_dir  # of the exported networks (None: the user's cache, see onnx_models)
        self._nets: tuple[OnnxModel, OnnxModel, OnnxModel] | None = None

    def load(self) -> None:
        """The three networks as ONNX Runtime sessions, from the model cache (exported there if missing)."""
        if self._nets is None:
            from pipeline.caption.onnx_models import cached_session, code_of

            folder = weights_folder()
            code = code_of(_networks)  # the architecture: a change to it is a new file
            pnet, rnet, onet = (
                cached_session(
                    f"mtcnn-{name}",
                    partial(_export, index),
                    key=[folder / f"{name}.pt", code, repr(EXPORT_SHAPES[index])],
                    threads=self.threads,
                    cache_dir=self.cache_dir,
                )
                for index, name in enumerate(NAMES)
            )
            self._nets = (pnet, rnet, onet)

    def detect(self, image: Image.Image) -> tuple[Face, ...]:
        """The faces found, largest first, as fractions of the image's size."""
        self.load()
        small = ImageOps.contain(image.convert("RGB"), (self.max_side, self.max_side), Image.Resampling.BILINEAR)
        width, height = small.size
        pixels = AreaResizer(np.asarray(small))
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

    def _propose(self, pixels: AreaResizer) -> np.ndarray:
        """P-Net over the image pyramid: candidate boxes (x1, y1, x2, y2, score), squared."""
        assert self._nets is not None
        height, width = pixels.height, pixels.width
        scale, found = 12.0 / self.min_face, []
        while min(height, width) * scale >= 12:
            resized = pixels.resize(int(height * scale + 1), int(width * scale + 1))[None]
            offsets, probs = self._nets[0]((resized - 127.5) * 0.0078125)
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

    def _rescore(self, pixels: AreaResizer, boxes: np.ndarray, stage: int, size: int) -> np.ndarray:
        """R-Net (stage 1) or O-Net (stage 2) on each candidate, resized to `size`: kept, refined boxes."""
        assert self._nets is not None
        x1, y1, x2, y2 = np.trunc(boxes[:, :4]).astype(np.int64).T
        x1, y1 = np.maximum(x1, 1), np.maximum(y1, 1)
        x2, y2 = np.minimum(x2, pixels.width), np.minimum(y2, pixels.height)
        kept = np.flatnonzero((x2 > x1 - 1) & (y2 > y1 - 1))
        if not len(kept):
            return np.zeros((0, 5), dtype=np.float32)
        # rows y1-1 .. y2-1 and columns x1-1 .. x2-1 of each kept box (boxes are 1-based, inclusive)
        top, left, bottom, right = y1[kept] - 1, x1[kept] - 1, y2[kept], x2[kept]
        outputs = []
        for start in range(0, len(kept), CROPS_PER_RUN):
            part = slice(start, start + CROPS_PER_RUN)
            crops = pixels.crops(top[part], left[part], bottom[part], right[part], size)
            outputs.append(self._nets[stage]((crops - 127.5) * 0.0078125))
        offsets = np.concatenate([o[0] for o in outputs])
        score = np.concatenate([o[1] for o in outputs])[:, 1]
        passed = score > STAGE_THRESHOLDS[stage]
        boxes = np.concatenate([boxes[kept][passed, :4], score[passed, None]], axis=1)
        offsets = offsets[passed]
        if stage == 1:
            keep = nms(boxes[:, :4], boxes[:, 4], 0.7)
            return _square(_refine(boxes[keep], offsets[keep]))
        boxes = _refine(boxes, offsets)
        return boxes[nms(boxes[:, :4], boxes[:, 4], 0.7, by_min=True)]


def _export(index: int) -> bytes:
    """Network `index` of the cascade (0 P-Net, 1 R-Net, 2 O-Net) as ONNX bytes: this imports PyTorch."""
    import torch

    from pipeline.caption.onnx_models import export_onnx

    shape, axes = EXPORT_SHAPES[index]
    return export_onnx(network(index), torch.zeros(shape), axes)


def _area_bounds(start: np.ndarray, length: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last+1 input index of each of `size` output cells over [start, start + length), per row."""
    cells = np.arange(size)
    length = length[..., None]
    first = start[..., None] + cells * length // size
    end = start[..., None] - (-(cells + 1) * length // size)  # ceil((i + 1) * length / size)
    return first, end


class AreaResizer:
    """An RGB image, resized by averaging areas: PyTorch's `interpolate(mode="area")` (adaptive average pooling).

    Output cell i of n over an input span of N averages input rows floor(i*N/n) .. ceil((i+1)*N/n) - 1,
    and the same for columns; this shrinks and enlarges alike. Sums over rectangles come from one integral
    image (cumulative sums: exact integers for 8-bit pixels, float64 otherwise), made once per photo and
    shared by the pyramid's levels and every crop: each output value costs four lookups and a division.
    """

    def __init__(self, pixels: np.ndarray) -> None:
        """`pixels`: (height, width, channels), uint8 (as PIL gives) or any real type."""
        self.height, self.width, channels = pixels.shape
        if np.issubdtype(pixels.dtype, np.integer):
            largest = int(np.iinfo(pixels.dtype).max) * max(1, pixels.shape[0] * pixels.shape[1])
            dtype: type[np.generic] = np.int32 if largest < 2**31 else np.int64
        else:
            dtype = np.float64
        sums = np.zeros((channels, self.height + 1, self.width + 1), dtype=dtype)
        inner = sums[:, 1:, 1:]
        np.cumsum(np.ascontiguousarray(pixels.transpose(2, 0, 1)), axis=1, dtype=dtype, out=inner)
        np.cumsum(inner, axis=2, out=inner)
        self._sums = sums
        self._flat = sums.reshape(channels, -1)  # the same numbers, addressed by row * (width + 1) + column

    def resize(self, height: int, width: int) -> np.ndarray:
        """The whole image at (height, width): float32 array (channels, height, width)."""
        zero = np.zeros(1, dtype=np.int64)
        top, bottom = (a[0] for a in _area_bounds(zero, np.array([self.height]), height))
        left, right = (a[0] for a in _area_bounds(zero, np.array([self.width]), width))
        rows = self._sums[:, bottom, :] - self._sums[:, top, :]  # (channels, height, width + 1)
        total = rows.take(right, axis=2) - rows.take(left, axis=2)
        area = ((bottom - top)[:, None] * (right - left)[None, :]).astype(np.float32)
        return total.astype(np.float32) / area

    def crops(self, top: np.ndarray, left: np.ndarray, bottom: np.ndarray, right: np.ndarray, size: int) -> np.ndarray:
        """Rectangles [top, bottom) × [left, right) (arrays, one per crop), each at size × size.

        Returns float32 (crops, channels, size, size), C-contiguous, the batch R-Net and O-Net take.
        """
        y0, y1 = _area_bounds(top, bottom - top, size)  # (crops, size) each
        x0, x1 = _area_bounds(left, right - left, size)
        stride = self.width + 1
        r0, r1 = y0[:, :, None] * stride, y1[:, :, None] * stride  # (crops, size, 1) against (crops, 1, size)
        c0, c1 = x0[:, None, :], x1[:, None, :]
        flat = self._flat
        total = flat.take(r1 + c1, axis=1) - flat.take(r0 + c1, axis=1)  # (channels, crops, size, size)
        total += flat.take(r0 + c0, axis=1) - flat.take(r1 + c0, axis=1)
        area = ((y1 - y0)[:, :, None] * (x1 - x0)[:, None, :]).astype(np.float32)
        return np.ascontiguousarray((total.astype(np.float32) / area).transpose(1, 0, 2, 3))
