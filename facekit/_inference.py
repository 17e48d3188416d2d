"""Running a shipped network with its inputs and outputs in the frame arena."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .models import model_info, open_session

if TYPE_CHECKING:
    from ._ephemeral import EphemeralArray
    from .arena import Frame


class Network:
    """One ONNX Runtime session whose tensors live in the frame arena.

    Inputs and outputs are bound by address (IOBinding), so ONNX Runtime reads the crop from
    the arena and writes its results straight into arena memory: no numpy heap array ever
    holds them. (Copies inside ONNX Runtime's own allocator are dealt with by the privacy
    proofs, not here.)
    """

    def __init__(self, name: str, intra_op_threads: int = 1) -> None:
        self.name = name
        self.session = open_session(name, intra_op_threads=intra_op_threads)
        info = model_info(name)
        self.input_name = info.inputs[0]["name"]
        self.input_shape = tuple(info.inputs[0]["shape"])
        self.outputs = {o["name"]: tuple(o["shape"]) for o in info.outputs}

    def run(self, frame: "Frame", tensor: "EphemeralArray") -> dict[str, "EphemeralArray"]:
        """Run on `tensor` (an arena view; its first axis is the batch); return the outputs as
        new arena views."""
        batch = tensor.shape[0]
        fixed_batch = self.input_shape[0]
        if tuple(tensor.shape[1:]) != self.input_shape[1:] or (
                isinstance(fixed_batch, int) and batch != fixed_batch):
            raise ValueError(f"{self.name} expects {self.input_shape}, got {tensor.shape}")
        results = {name: frame._allocate((batch, *shape[1:]))
                   for name, shape in self.outputs.items()}
        binding = self.session.io_binding()
        binding.bind_input(self.input_name, "cpu", 0, np.float32, tensor.shape,
                           tensor.ctypes.data)
        for name, view in results.items():
            binding.bind_output(name, "cpu", 0, np.float32, view.shape, view.ctypes.data)
        self.session.run_with_iobinding(binding)
        return results
