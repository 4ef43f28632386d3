"""The COCO object detector (pipeline/caption/objects.py) on real photos of the everyday set, and its file's pin."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.caption.objects import (
    BINS,
    COCO_LABELS,
    DEFAULT_MIN_SCORE,
    MODEL_FILE,
    SIZE,
    STRIDES,
    Detection,
    ModelFileError,
    ObjectDetector,
    count,
    nms,
)

EVERYDAY = Path(__file__).parents[1] / "data" / "everyday"
ANIMALS = {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"}


@pytest.fixture(scope="module")
def detector() -> ObjectDetector:
    return ObjectDetector()


@pytest.fixture(scope="module")
def listed() -> set[str]:
    with (EVERYDAY / "photos.toml").open("rb") as file:
        return {photo["file"] for photo in tomllib.load(file)["photo"]}


def detect(
    detector: ObjectDetector, listed: set[str], name: str, min_score: float = DEFAULT_MIN_SCORE
) -> list[Detection]:
    assert name in listed, f"{name} is not in photos.toml"
    with Image.open(EVERYDAY / name) as image:
        return detector.detect(image, min_score=min_score)


def labels(detections: list[Detection]) -> set[str]:
    return {detection.label for detection in detections}


@pytest.mark.models  # the COCO detector (ONNX Runtime)
@pytest.mark.parametrize("name", ["dog-on-floor.jpg", "german-shepherd.jpg"])
def test_a_dog_is_a_dog(detector: ObjectDetector, listed: set[str], name: str) -> None:
    found = detect(detector, listed, name)
    assert found[0].label == "dog"


@pytest.mark.models  # the COCO detector (ONNX Runtime)
@pytest.mark.parametrize(
    ("name", "label"),
    [("bus.jpg", "bus"), ("rowing-boats.jpg", "boat"), ("planes-at-airport.jpg", "airplane"), ("pizza.jpg", "pizza")],
)
def test_the_photos_subject_is_the_best_detection(
    detector: ObjectDetector, listed: set[str], name: str, label: str
) -> None:
    assert detect(detector, listed, name)[0].label == label


@pytest.mark.models  # the COCO detector (ONNX Runtime)
def test_a_car_is_the_only_thing_seen_in_the_car_photo(detector: ObjectDetector, listed: set[str]) -> None:
    assert labels(detect(detector, listed, "car.jpg", min_score=0.3)) == {"car"}


@pytest.mark.models  # the COCO detector (ONNX Runtime)
def test_the_bus_box_spans_the_bus(detector: ObjectDetector, listed: set[str]) -> None:
    bus = next(d for d in detect(detector, listed, "bus.jpg") if d.label == "bus")
    x0, _, x1, _ = bus.box
    assert x0 < 0.05 and x1 > 0.95  # the bus fills the photo's width (a cut-out on white)
    assert 0.5 < bus.area <= 1.0


@pytest.mark.models  # the COCO detector (ONNX Runtime)
@pytest.mark.parametrize(("name", "people"), [("man-close-up.jpg", 1), ("three-friends.jpg", 3), ("billiards.jpg", 2)])
def test_people_are_counted(detector: ObjectDetector, listed: set[str], name: str, people: int) -> None:
    assert count(detect(detector, listed, name), "person") == people


@pytest.mark.models  # the COCO detector (ONNX Runtime)
def test_a_crowd_is_many_people(detector: ObjectDetector, listed: set[str]) -> None:
    assert count(detect(detector, listed, "taiko-festival.jpg"), "person") >= 6


@pytest.mark.models  # the COCO detector (ONNX Runtime)
@pytest.mark.parametrize("name", ["grand-canyon.jpg", "ocean-waves.jpg", "sunset-over-trees.jpg", "skyscrapers.jpg"])
def test_no_confident_animal_in_a_landscape(detector: ObjectDetector, listed: set[str], name: str) -> None:
    assert not labels(detect(detector, listed, name)) & ANIMALS


@pytest.mark.models  # the COCO detector (ONNX Runtime)
@pytest.mark.parametrize("name", ["ocean-waves.jpg", "skyscrapers.jpg"])
def test_nothing_at_all_in_a_seascape_or_a_skyline(detector: ObjectDetector, listed: set[str], name: str) -> None:
    assert detect(detector, listed, name, min_score=0.3) == []


@pytest.mark.models  # the COCO detector (ONNX Runtime)
def test_detections_are_sorted_and_inside_the_photo(detector: ObjectDetector, listed: set[str]) -> None:
    found = detect(detector, listed, "orchestra.jpg", min_score=0.3)
    assert len(found) >= 4
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    for detection in found:
        x0, y0, x1, y1 = detection.box
        assert 0.0 <= x0 <= x1 <= 1.0 and 0.0 <= y0 <= y1 <= 1.0
        assert detection.label in COCO_LABELS and 0.3 <= detection.score <= 1.0


@pytest.mark.models  # the COCO detector (ONNX Runtime)
def test_stretching_instead_of_letterboxing_still_sees_the_bus(listed: set[str]) -> None:
    assert detect(ObjectDetector(keep_ratio=False), listed, "bus.jpg")[0].label == "bus"


# --- the model file's pin ---------------------------------------------------------------------------------


def test_a_damaged_model_file_is_refused(tmp_path: Path) -> None:
    damaged = tmp_path / MODEL_FILE.name
    shutil.copyfile(MODEL_FILE, damaged)
    with damaged.open("r+b") as file:
        file.seek(damaged.stat().st_size // 2)
        byte = file.read(1)
        file.seek(-1, 1)
        file.write(bytes([byte[0] ^ 0xFF]))
    detector = ObjectDetector(damaged)
    with pytest.raises(ModelFileError, match="sha256"):
        detector.detect(Image.new("RGB", (64, 48)))
    with pytest.raises(ModelFileError, match="sha256"):  # checked again, never half-loaded
        detector.load()


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot be read"):
        ObjectDetector(tmp_path / "missing.onnx").load()


# --- decoding, without the network --------------------------------------------------------------------------


def empty_outputs() -> list[np.ndarray]:
    outputs = []
    for stride in STRIDES:
        cells = (SIZE // stride) ** 2
        outputs += [np.zeros((1, cells, len(COCO_LABELS)), np.float32), np.zeros((1, cells, 4 * BINS), np.float32)]
    return outputs


def test_decoding_follows_nanodets_layout() -> None:
    outputs = empty_outputs()
    side = SIZE // 16  # the stride-16 grid
    cell = 10 * side + 5  # row 10, column 5: centre (88, 168) in input pixels
    outputs[2][0, cell, COCO_LABELS.index("cat")] = 0.9
    bins = np.full((4, BINS), -50.0, np.float32)
    bins[[0, 1, 2, 3], [2, 3, 4, 5]] = 50.0  # left 2, top 3, right 4, bottom 5 strides
    outputs[3][0, cell] = bins.reshape(-1)
    # a 832×416 photo letterboxed: 416×208 at (0, 104)
    found = ObjectDetector().decode(outputs, (0.0, 104.0, 416.0, 208.0), min_score=0.5)
    assert [d.label for d in found] == ["cat"] and found[0].score == pytest.approx(0.9)
    expected = ((88 - 32) / 416, (168 - 48 - 104) / 208, (88 + 64) / 416, (168 + 80 - 104) / 208)
    assert found[0].box == pytest.approx(expected, abs=1e-6)


def test_boxes_of_one_class_are_merged_but_not_across_classes() -> None:
    outputs = empty_outputs()
    for cell, label, score in ((100, "dog", 0.8), (101, "dog", 0.7), (100, "cat", 0.6)):
        outputs[0][0, cell, COCO_LABELS.index(label)] = score  # stride 8: neighbouring cells, same-sized boxes
        outputs[1][0, cell] = np.tile(np.eye(BINS, dtype=np.float32)[6] * 50, 4)
    found = ObjectDetector().decode(outputs, (0.0, 0.0, 416.0, 416.0), min_score=0.5)
    assert [(d.label, round(d.score, 2)) for d in found] == [("dog", 0.8), ("cat", 0.6)]


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 5]], dtype=np.float64)
    scores = np.array([0.5, 0.9, 0.4, 0.3])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2, 3]  # box 0 overlaps box 1 by 0.68, box 3 by 0.32
