"""Running a shipped network with its inputs and outputs in the frame arena."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .models import model_info, open_session

if TYPE_CHECKING:
    from ._ephemeral import EphemeralArray
    from .arena import Frame

__all__ = ["Network", "DEFAULT_SCRUB", "SCRUB_MODES"]

# How ONNX Runtime's own buffers are cleared of a run's face-derived values (read when a
# Network is created). Measured with the memory scan (facekit.audit.memscan), image mode:
#   "none"   nothing: ONNX Runtime's heap keeps two copies of the landmark network's raw output
#            after the frame is wiped. Still the default: the only clean option costs +78%.
#   "rerun"  after each run, run once more on an all-zeros input with outputs bound to scratch
#            buffers (after a two-run warm-up per batch size, so both runs share one memory
#            plan): every buffer is overwritten by a blank image's activations. Scans clean;
#            costs +78% per frame.
# Also measured and dropped: ORT's arena shrinkage after each run (+22%, does not clean: the
# copies sit in glibc's heap, not in ORT's arena).
SCRUB_MODES = ("none", "rerun")
DEFAULT_SCRUB = "none"


class Network:
    """One ONNX Runtime session whose tensors live in the frame arena.

    Inputs and outputs are bound by address (IOBinding), so ONNX Runtime reads the crop from
    the arena and writes its results straight into arena memory: no numpy heap array ever
    holds them. After each run, :meth:`scrub` clears ONNX Runtime's own buffers of the run's
    values (see ``DEFAULT_SCRUB``).
    """

    def __init__(self, name: str, intra_op_threads: int = 1, scrub: str | None = None) -> None:
        self.name = name
        self.scrub_mode = DEFAULT_SCRUB if scrub is None else scrub
        if self.scrub_mode not in SCRUB_MODES:
            raise ValueError(f"scrub must be one of {SCRUB_MODES}, got {self.scrub_mode!r}")
        self.session = open_session(name, intra_op_threads=intra_op_threads)
        info = model_info(name)
        self.input_name = info.inputs[0]["name"]
        self.input_shape = tuple(info.inputs[0]["shape"])
        self.outputs = {o["name"]: tuple(o["shape"]) for o in info.outputs}
        self._blank: dict[int, object] = {}  # batch size -> IOBinding over zero/scratch buffers

    def run(self, frame: "Frame", tensor: "EphemeralArray") -> dict[str, "EphemeralArray"]:
        """Run on `tensor` (an arena view; its first axis is the batch); return the outputs as
        new arena views."""
        batch = tensor.shape[0]
        fixed_batch = self.input_shape[0]
        if tuple(tensor.shape[1:]) != self.input_shape[1:] or (
                isinstance(fixed_batch, int) and batch != fixed_batch):
            raise ValueError(f"{self.name} expects {self.input_shape}, got {tensor.shape}")
        if self.scrub_mode == "rerun" and batch not in self._blank:
            self._blank_binding(batch)  # warm-up: later runs of this shape share one plan
            self.scrub(batch)
            self.scrub(batch)
        results = {name: frame._allocate((batch, *shape[1:]))
                   for name, shape in self.outputs.items()}
        binding = self._bind(tensor, results)
        self.session.run_with_iobinding(binding)
        self.scrub(batch)
        return results

    def scrub(self, batch: int) -> None:
        """Overwrite ONNX Runtime's buffers for this batch size with a blank run (mode
        "rerun"): same shapes, so the same memory plan and the same arena chunks are reused.
        The zero input and the scratch outputs are plain numpy buffers: the network's response
        to a blank image is no one's biometric data."""
        if self.scrub_mode != "rerun":
            return
        self.session.run_with_iobinding(self._blank_binding(batch))

    def _blank_binding(self, batch: int):
        """An IOBinding of an all-zeros input and scratch outputs for `batch` (cached)."""
        entry = self._blank.get(batch)
        if entry is None:
            zeros = np.zeros((batch, *self.input_shape[1:]), np.float32)
            scratch = {name: np.zeros((batch, *shape[1:]), np.float32)
                       for name, shape in self.outputs.items()}
            binding = self._bind(zeros, scratch)
            entry = self._blank[batch] = (binding, zeros, scratch)  # buffers live with it
        return entry[0]

    def _bind(self, tensor: np.ndarray, outputs: dict[str, np.ndarray]):
        """An IOBinding reading `tensor` and writing `outputs` in place, by address."""
        binding = self.session.io_binding()
        binding.bind_input(self.input_name, "cpu", 0, np.float32, tensor.shape,
                           tensor.ctypes.data)
        for name, view in outputs.items():
            binding.bind_output(name, "cpu", 0, np.float32, view.shape, view.ctypes.data)
        return binding
