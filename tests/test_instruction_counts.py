"""The qemu log parser of benchmarks/instruction_counts.py, on synthetic logs in qemu 7.2's
format (the script itself needs both native builds, valgrind and qemu-user: run it by hand)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "instruction_counts.py"


@pytest.fixture(scope="module")
def ic():
    spec = importlib.util.spec_from_file_location("instruction_counts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def translation(pcs: list[int], symbol: str = "f") -> str:
    body = "".join(f"0x{pc:08x}:  d503201f  nop\n" for pc in pcs)
    return f"----------------\nIN: {symbol}\n{body}\n"


def trace(ptr: int, pc: int, symbol: str = "f") -> str:
    return f"Trace 0: 0x{ptr:x} [0000000000001001/{pc:016x}/00000001/00000200] {symbol}\n"


def lines(text: str) -> list[bytes]:
    return [line + b"\n" for line in text.encode().split(b"\n") if line]


def test_sums_the_length_of_each_executed_block(ic):
    log = (translation([0x400000, 0x400004, 0x400008]) + trace(0x7f00, 0x400000)
           + translation([0x40000c, 0x400010]) + trace(0x7f80, 0x40000c)
           + trace(0x7f00, 0x400000) + trace(0x7f80, 0x40000c) + trace(0x7f80, 0x40000c))
    counts = ic.parse_qemu_log(lines(log))
    assert counts == {"instructions": 3 + 2 + 3 + 2 + 2, "tb_executions": 5, "tbs_stopped": 0}


def test_a_new_translation_at_a_reused_host_address_replaces_the_old_one(ic):
    # After a code-buffer flush the same host pointer holds a different (here longer) block.
    log = (translation([0x400000]) + trace(0x7f00, 0x400000)
           + translation([0x500000, 0x500004, 0x500008, 0x50000c]) + trace(0x7f00, 0x500000)
           + trace(0x7f00, 0x500000))
    assert ic.parse_qemu_log(lines(log))["instructions"] == 1 + 4 + 4


def test_a_retranslation_before_the_first_run_counts_only_the_last(ic):
    # A block too large for the code buffer is translated again, shorter, before it runs.
    log = (translation([0x400000 + 4 * i for i in range(6)])
           + translation([0x400000 + 4 * i for i in range(3)]) + trace(0x7f00, 0x400000))
    assert ic.parse_qemu_log(lines(log))["instructions"] == 3


def test_a_stopped_block_is_not_counted(ic):
    log = (translation([0x400000, 0x400004]) + trace(0x7f00, 0x400000) + trace(0x7f00, 0x400000)
           + "Stopped execution of TB chain before 0x7f00 [0000000000400000] f\n")
    assert ic.parse_qemu_log(lines(log)) == {"instructions": 2, "tb_executions": 1,
                                            "tbs_stopped": 1}


def test_one_instruction_per_block_counts_executions(ic):
    log = trace(0x7f00, 0x400000) + trace(0x7f40, 0x400004) + trace(0x7f00, 0x400000)
    assert ic.parse_qemu_log(lines(log), one_insn_per_tb=True)["instructions"] == 3


def test_an_execution_without_translation_is_an_error(ic):
    with pytest.raises(ic.CountError):
        ic.parse_qemu_log(lines(trace(0x7f00, 0x400000)))
