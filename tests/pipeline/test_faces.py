"""MTCNN's resizing in numpy (`AreaResizer`): the same numbers as PyTorch's `interpolate(mode="area")`."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.caption.faces import AreaResizer

TOLERANCE = 1e-4
# (input height, width) → (output height, width): shrinking by fractions and by many times, enlarging,
# mixed, unchanged, single rows and columns, sizes that do not divide each other.
SHAPES = [
    ((448, 336), (414, 311)),
    ((448, 336), (12, 9)),
    ((37, 53), (24, 24)),
    ((5, 7), (24, 24)),
    ((13, 200), (48, 48)),
    ((1, 1), (3, 4)),
    ((24, 24), (24, 24)),
    ((17, 31), (17, 5)),
    ((1, 90), (7, 1)),
    ((301, 2), (48, 48)),
]


@pytest.mark.models  # PyTorch, to compare with
def test_the_same_numbers_as_pytorch_area_interpolation() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for (height, width), size in SHAPES:
        for pixels in (rng.integers(0, 256, (height, width, 3), dtype=np.uint8), rng.random((height, width, 3))):
            image = np.asarray(pixels, dtype=np.float32)
            expected = torch.nn.functional.interpolate(
                torch.from_numpy(image.transpose(2, 0, 1).copy())[None], size=size, mode="area"
            )[0].numpy()
            got = AreaResizer(pixels).resize(*size)
            assert got.dtype == np.float32 and got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE, err_msg=f"{height}x{width} → {size}")


@pytest.mark.models  # PyTorch, to compare with
def test_crops_are_the_resized_parts_of_the_image() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    image = torch.from_numpy(pixels.astype(np.float32).transpose(2, 0, 1).copy())[None]
    boxes = np.array([[0, 0, 120, 90], [10, 20, 11, 21], [5, 7, 60, 19], [100, 3, 120, 90], [33, 44, 81, 50]])
    for size in (24, 48):
        got = AreaResizer(pixels).crops(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], size)
        assert got.shape == (len(boxes), 3, size, size) and got.dtype == np.float32 and got.flags.c_contiguous
        for crop, (top, left, bottom, right) in zip(got, boxes, strict=True):
            part = image[:, :, top:bottom, left:right]
            expected = torch.nn.functional.interpolate(part, size=(size, size), mode="area")[0].numpy()
            np.testing.assert_allclose(crop, expected, rtol=0, atol=TOLERANCE)


def test_averages_without_pytorch() -> None:
    pixels = np.arange(4 * 6, dtype=np.uint8).reshape(4, 6, 1)
    halved = AreaResizer(pixels).resize(2, 3)[0]
    expected = pixels[:, :, 0].reshape(2, 2, 3, 2).mean(axis=(1, 3))
    np.testing.assert_array_equal(halved, expected)
    doubled = AreaResizer(pixels).resize(8, 12)[0]
    np.testing.assert_array_equal(doubled, np.repeat(np.repeat(pixels[:, :, 0], 2, axis=0), 2, axis=1))
    thirds = AreaResizer(np.array([[[0], [3], [6]]], dtype=np.uint8)).resize(1, 2)[0, 0]  # overlapping cells
    np.testing.assert_array_equal(thirds, [1.5, 4.5])
