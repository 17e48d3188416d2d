"""Reading this process's /proc entries."""

from __future__ import annotations

__all__ = ["vm_flags"]


def vm_flags(address: int) -> list[str]:
    """The ``VmFlags`` of this process's mapping that holds `address` (``/proc/self/smaps``)."""
    with open("/proc/self/smaps") as smaps:
        inside = False
        for line in smaps:
            head = line.split()[0] if line.strip() else ""
            if "-" in head and not line.startswith("VmFlags"):
                try:
                    low, high = (int(part, 16) for part in head.split("-"))
                    inside = low <= address < high
                    continue
                except ValueError:
                    pass
            if inside and line.startswith("VmFlags:"):
                return line.split()[1:]
    return []
