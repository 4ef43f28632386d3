"""Small PyTorch networks run by ONNX Runtime: `cached_session(name, export, key=...)`, or `onnx_session`.

The captioner's networks (EfficientNet-Lite, MTCNN's three) ship as PyTorch weights. Exported to ONNX
(`export_onnx`, a fraction of a second each) and run by ONNX Runtime, they give the same numbers (within
~1e-6) about twice as fast as PyTorch eager on one core.

The exported files are kept in a cache folder (`model_cache_dir`; by default $XDG_CACHE_HOME/conta-historias
or ~/.cache/conta-historias), so that only the first start exports: later ones read the file with ONNX
Runtime alone and never import PyTorch (~190 MB resident for the import, ~400 MB with the export's
leftovers, against ~50 MB for numpy and ONNX Runtime). A file is named after its network and a hash of what
determines it (the weights' bytes, the code that builds the network, input shapes, opset), so new weights or
code give a new file. Files are written whole (a temporary file, then `os.replace`): a process starting at
the same time sees the old state or the new, never half a file. A folder that cannot be written costs the
export at every start (one warning), never the captioner.

Each session runs on `threads` threads (1 by default) without spin-waiting, like the Piper voice's
(`speech/synthesizers.py`): the stages of the pipeline overlap on few cores, and spinning threads burn the CPU the
others need. Memory patterns are off: they are cached per input shape, and these inputs change with every
photo (batch sizes, pyramid levels). A session is thread-safe: two photos can run through one at once.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import cache_folder
from pipeline.logonce import WarnOnce

if TYPE_CHECKING:
    import onnxruntime
    import torch

__all__ = [
    "OPSET",
    "OnnxModel",
    "cached_session",
    "code_of",
    "export_onnx",
    "model_session",
    "onnx_session",
]

OPSET = 17
INPUT_NAME = "input"
# Part of every cache key: bump it when export_onnx changes what it writes for the same network.
CACHE_FORMAT = "1"

log = logging.getLogger(__name__)
_warn = WarnOnce(log)


class OnnxModel:
    """An ONNX Runtime session for a network with one input: `model(batch)` → its outputs, as numpy arrays."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session = session
        self._input = session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run the network on a float32 array (C-contiguous, the shape the module takes); thread-safe."""
        outputs: list[np.ndarray] = self.session.run(None, {self._input: batch})
        return outputs


def export_onnx(module: torch.nn.Module, example: torch.Tensor, dynamic_axes: Sequence[int] = (0,)) -> bytes:
    """`module` (in eval mode) as an ONNX model, traced on `example`.

    `dynamic_axes` are the axes of the input, and of every output that has them, whose size may change
    from call to call: the batch (0), and for a fully convolutional network the height and width (2, 3).
    Each gets its own symbolic name, since an output's size is not the input's.
    """
    import torch

    with torch.no_grad():  # one run, to name the outputs and learn their ranks
        outputs = module(example)
    count = len(outputs) if isinstance(outputs, (tuple, list)) else 1
    output_names = [f"output{i}" for i in range(count)]
    axes: dict[str, dict[int, str]] = {INPUT_NAME: {axis: f"{INPUT_NAME}_{axis}" for axis in dynamic_axes}}
    for name, output in zip(output_names, outputs if count > 1 else [outputs], strict=True):
        axes[name] = {axis: f"{name}_{axis}" for axis in dynamic_axes if axis < output.dim()}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():  # no autograd: the export peaks ~150 MB lower
        warnings.simplefilter("ignore")  # the TorchScript exporter's notices (tracer, deprecation): not ours to fix
        torch.onnx.export(
            module,
            (example,),
            buffer,  # type: ignore[arg-type]  # the signature names paths; the TorchScript exporter takes files too
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=output_names,
            dynamic_axes=axes,
        )
    return buffer.getvalue()


def _session(model: bytes | Path, threads: int) -> OnnxModel:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_pattern = False
    # No memory arena: the captioner's networks kept ~75 MB they no longer needed (a light bot with both voices
    # 1,002 → 927 MB) for ~10 ms more a caption (2026-12-07). Piper keeps its arena: without it, it takes more.
    options.enable_cpu_mem_arena = False
    source = str(model) if isinstance(model, Path) else model
    return OnnxModel(onnxruntime.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"]))


def model_session(model: bytes | Path, *, threads: int = 1) -> OnnxModel:
    """A ready ONNX model (its bytes or its file) in ONNX Runtime on the CPU, with the settings above."""
    return _session(model, threads)


def onnx_session(
    module: torch.nn.Module, example: torch.Tensor, dynamic_axes: Sequence[int] = (0,), *, threads: int = 1
) -> OnnxModel:
    """`module` exported to ONNX (`export_onnx`) and loaded in ONNX Runtime on the CPU, without any cache.

    The session keeps its own copy of the weights: the caller may drop the module afterwards.
    """
    return _session(export_onnx(module, example, dynamic_axes), threads)


def code_of(function: Callable[..., object]) -> str:
    """The source of the function that builds a network, for a cache key (its name if there is no source)."""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):  # compiled files only: then a change of code needs a new weights file or key
        return f"{function.__module__}.{function.__qualname__}"


def cache_key(parts: Iterable[str | Path]) -> str:
    """A short hash of what determines an exported file: strings as they are, files by their bytes."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT}, opset {OPSET}".encode())
    for part in parts:
        if isinstance(part, Path):
            with part.open("rb") as file:
                digest.update(b"file " + hashlib.file_digest(file, "sha256").digest())
        else:
            digest.update(b"text " + hashlib.sha256(part.encode()).digest())
    return digest.hexdigest()[:16]


def cached_session(
    name: str,
    export: Callable[[], bytes],
    *,
    key: Iterable[str | Path],
    threads: int = 1,
    cache_dir: Path | None = None,
) -> OnnxModel:
    """The ONNX Runtime session of network `name`, from the cache folder, exported by `export()` if missing.

    `key` lists what determines the exported bytes (weights files, hashed by content; the source of the
    code that builds the network; input shapes and dynamic axes). `export` is only called on a miss, so it
    is where PyTorch gets imported. Any trouble with the folder (cannot create, write or read a file) falls
    back to a session made from the exported bytes in memory, with one warning per folder.
    """
    try:
        folder = cache_folder(cache_dir)
    except RuntimeError as error:  # no setting, no XDG_CACHE_HOME, and no home folder either
        _warn.warn("cache", "no folder for the model cache (%s): exporting the models at every start", error)
        return _session(export(), threads)
    path = folder / f"{name}-{cache_key(key)}.onnx"
    if os.path.isfile(path):  # False on any error (e.g. a folder we may not read), unlike Path.is_file
        try:
            return _session(path, threads)
        except Exception as error:  # a damaged file (ONNX Runtime raises its own types): export it again
            log.warning("cached model %s could not be loaded (%s); exporting it again", path, error)
    model = export()
    try:
        _write_whole(path, model)
    except OSError as error:
        _warn.warn(
            f"cache {folder}",
            "model cache %s cannot be written (%s): exporting the models at every start (set MODEL_CACHE_DIR)",
            folder,
            error,
        )
    return _session(model, threads)


def _write_whole(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either no file or all of it (a temporary file, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600: the image's cache is filled by root, read by the bot
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
