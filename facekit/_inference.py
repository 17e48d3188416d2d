"""Running a shipped network with its inputs and outputs in the frame arena."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from . import _debug, _native, _observe
from .arena import allocate
from .models import model_info, open_session

if TYPE_CHECKING:
    from ._ephemeral import EphemeralArray
    from .arena import Frame

__all__ = ["Network", "DEFAULT_SCRUB", "SCRUB_MODES", "choose_scrub"]

# How ONNX Runtime's own buffers are cleared of a run's face-derived values. Measured with the
# memory scan (facekit.audit.memscan; landmarker with iris, sample photo, one thread; after the
# frame ends, counting landmark windows, the mesh network's raw output and each network's last
# hidden activations) and with benchmarks/test_scrub.py (cost per frame, share of inference):
#   "perturb"  ORT's memory arena off (every tensor is malloc'd and freed within the run) and
#              glibc's M_PERTURB on for the length of the run (free() overwrites each released
#              chunk, except the small ones its per-thread cache keeps: those are taken out,
#              zeroed and freed again), then 256 KiB of dead stack zeroed: scans clean (two
#              threads included); +6-14% of inference.
#              The switch is process-wide: a count of runs in progress keeps it on while any
#              thread's run is under way (memscan mode "threads").
#   "rerun"    after each run, run once more on an all-zeros input with outputs bound to scratch
#              buffers (after a two-run warm-up per batch size, so both runs share one memory
#              plan): every buffer is overwritten by a blank image's activations. Scans clean;
#              +65-80%. Used where "perturb" is not available (no glibc) or not enough (more
#              than one intra-op thread: worker threads' stacks are not wiped).
#   "none"     nothing: ORT's heap keeps two copies of the mesh network's raw output and every
#              network's last hidden activations. Only with the audit self-test switch.
# Also measured and dropped: ORT's arena shrinkage after each run (+22%, does not clean: the
# copies sit in glibc's heap, not in ORT's arena); the arena off alone (free, does not clean).
SCRUB_MODES = ("perturb", "rerun", "none")
DEFAULT_SCRUB = "auto"
_BLANK_SHAPES = 8  # "rerun" blank bindings kept (a network with free sides sees many shapes)
_STACK_WIPE = 256 << 10  # bytes of stack zeroed after a run (ORT's deepest use is far less)
_PERTURB_BYTE = 0xA5


class _FreePerturbation:
    """glibc's M_PERTURB is one switch for the whole process, and runs overlap when pipelines
    work in several threads: it is on while at least one perturbed run is in progress (on at
    the first, off after the last), so no thread turns it off under another's frees."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0

    def available(self) -> bool:
        """Whether this C library has the switch (probed without disturbing runs under way)."""
        with self._lock:
            return self._runs > 0 or _native.process.set_free_perturb(0)

    def __enter__(self) -> None:
        with self._lock:
            if self._runs == 0:
                _native.process.set_free_perturb(_PERTURB_BYTE)
            self._runs += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._runs -= 1
            if self._runs == 0:
                _native.process.set_free_perturb(0)


_free_perturbation = _FreePerturbation()


def choose_scrub(requested: str, intra_op_threads: int) -> str:
    """The scrub mode a network uses: `requested`, or for "auto" the cheapest clean one here."""
    if _debug.skip_wipe():
        return "none"
    if requested == "auto":
        perturb_ok = intra_op_threads == 1 and _free_perturbation.available()
        return "perturb" if perturb_ok else "rerun"
    if requested not in SCRUB_MODES:
        raise ValueError(f"scrub must be 'auto' or one of {SCRUB_MODES}, got {requested!r}")
    return requested


def _batched(shape: tuple, batch: int) -> tuple[int, ...]:
    """An output's shape for an input batch: a symbolic first axis follows the batch, a fixed
    one stays (a network that splits a stacked input into parts, say)."""
    return (shape[0] if isinstance(shape[0], int) else batch, *shape[1:])


class Network:
    """One ONNX Runtime session whose tensors live in the frame arena.

    Inputs and outputs are bound by address (IOBinding), so ONNX Runtime reads the crop from
    the arena and writes its results straight into arena memory: no numpy heap array ever
    holds them. Each run also clears ONNX Runtime's own buffers of the run's values (see
    ``SCRUB_MODES``).
    """

    def __init__(self, name: str, intra_op_threads: int = 1, scrub: str | None = None) -> None:
        self.name = name
        self.scrub_mode = choose_scrub(DEFAULT_SCRUB if scrub is None else scrub,
                                       intra_op_threads)
        self.session = open_session(name, intra_op_threads=intra_op_threads,
                                    memory_arena=self.scrub_mode != "perturb")
        info = model_info(name)
        self.input_name = info.inputs[0]["name"]
        self.input_shape = tuple(info.inputs[0]["shape"])
        self.outputs = {o["name"]: tuple(o["shape"]) for o in info.outputs}
        # input shape -> IOBinding over zero/scratch buffers ("rerun")
        self._blank: dict[tuple[int, ...], tuple] = {}
        # The last run's IOBinding and the addresses it binds: a frame's arena hands out the same
        # addresses every frame, and reusing the binding saves its four ORT calls per run.
        self._last_binding: tuple[tuple, object] | None = None

    def run(self, frame: Frame, tensor: np.ndarray,
            output_shapes: Mapping[str, tuple[int, ...]] | None = None,
            ) -> dict[str, EphemeralArray]:
        """Run on `tensor` (an arena view; its first axis is the batch); return the outputs as
        new arena views. A network with free sides (CenterFace) takes any size there and needs
        `output_shapes`, each output's shape for this input, from its caller."""
        self._check_input(tensor.shape)
        shapes = self._output_shapes(tensor.shape[0], output_shapes)
        if self.scrub_mode == "rerun" and tensor.shape not in self._blank:
            self._blank_binding(tensor.shape, shapes)  # warm-up: later runs of this shape
            self.scrub(tensor.shape)                    # share one memory plan
            self.scrub(tensor.shape)
        results = {name: allocate(frame, shape) for name, shape in shapes.items()}
        binding = self._binding(tensor, results)
        if self.scrub_mode == "perturb":
            self._run_perturbed(binding)
        else:
            self.session.run_with_iobinding(binding)
            self.scrub(tensor.shape)
        _observe.network_ran(self.name, tensor, results)  # the audit's hook; free if unheard
        return results

    def _check_input(self, shape: tuple[int, ...]) -> None:
        """Refuses a tensor of another shape than the network's (free axes take any size)."""
        want = self.input_shape
        if len(shape) != len(want) or any(
                isinstance(w, int) and w != got for w, got in zip(want, shape)) or (
                0 in shape):
            raise ValueError(f"{self.name} expects {want}, got {shape}")

    def _output_shapes(self, batch: int, given: Mapping[str, tuple[int, ...]] | None,
                       ) -> dict[str, tuple[int, ...]]:
        if given is None:
            shapes = {name: _batched(shape, batch) for name, shape in self.outputs.items()}
            if any(isinstance(d, str) for shape in shapes.values() for d in shape):
                raise ValueError(f"{self.name} has free output sides: pass output_shapes")
            return shapes
        if set(given) != set(self.outputs):
            raise ValueError(f"{self.name}'s outputs are {sorted(self.outputs)}, "
                             f"got shapes for {sorted(given)}")
        return {name: tuple(given[name]) for name in self.outputs}

    def _run_perturbed(self, binding) -> None:
        """Run with free() overwriting what ONNX Runtime releases (its arena is off, so every
        buffer of the run is released before it returns), then zero the dead stack below."""
        try:
            with _free_perturbation:
                self.session.run_with_iobinding(binding)
        finally:
            # free() does not perturb chunks that glibc's per-thread cache keeps (up to 1032
            # bytes: the attention mesh's last activations are 512): wipe those too.
            _native.process.wipe_thread_cache()
            _native.process.wipe_stack(_STACK_WIPE)

    def scrub(self, shape: tuple[int, ...]) -> None:
        """Overwrite ONNX Runtime's buffers for this input shape with a blank run (mode
        "rerun"): same shapes, so the same memory plan and the same arena chunks are reused.
        The zero input and the scratch outputs are plain numpy buffers: the network's response
        to a blank image is no one's biometric data."""
        if self.scrub_mode != "rerun":
            return
        entry = self._blank.pop(shape)  # made by run() before its first run of this shape
        self._blank[shape] = entry  # now the most recently used
        self.session.run_with_iobinding(entry[0])

    def _blank_binding(self, shape: tuple[int, ...], outputs: Mapping[str, tuple[int, ...]]):
        """An IOBinding of an all-zeros input of `shape` and scratch outputs (cached)."""
        entry = self._blank.pop(shape, None)
        if entry is None:
            if len(self._blank) >= _BLANK_SHAPES:  # the least recently used goes
                del self._blank[next(iter(self._blank))]
            zeros = np.zeros(shape, np.float32)
            scratch = {name: np.zeros(out, np.float32) for name, out in outputs.items()}
            binding = self._bind(zeros, scratch)
            entry = (binding, zeros, scratch)  # the buffers live with the binding
        self._blank[shape] = entry  # (re)inserted last: the most recently used
        return entry[0]

    def _binding(self, tensor: np.ndarray, outputs: Mapping[str, np.ndarray]):
        """The IOBinding of `tensor` and `outputs`: the last run's when it binds the same
        addresses and shapes, else a new one."""
        key = (tensor.shape, tensor.ctypes.data,
               *((view.shape, view.ctypes.data) for view in outputs.values()))
        last = self._last_binding
        if last is not None and last[0] == key:
            return last[1]
        binding = self._bind(tensor, outputs)
        self._last_binding = (key, binding)
        return binding

    def _bind(self, tensor: np.ndarray, outputs: Mapping[str, np.ndarray]):
        """An IOBinding reading `tensor` and writing `outputs` in place, by address."""
        binding = self.session.io_binding()
        binding.bind_input(self.input_name, "cpu", 0, np.float32, tensor.shape,
                           tensor.ctypes.data)
        for name, view in outputs.items():
            binding.bind_output(name, "cpu", 0, np.float32, view.shape, view.ctypes.data)
        return binding
