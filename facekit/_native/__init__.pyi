"""
facekit's native core (private; use the facekit package)
"""
from __future__ import annotations
from . import arena
from . import cpu
from . import warp
from . import detection
from . import landmarks
from . import draw
from . import process
from . import beauty
from . import fusion
from . import anonymize
from . import verify
from . import video
from . import portrait
__all__: list[str] = ['anonymize', 'arena', 'beauty', 'cpu', 'detection', 'draw', 'fusion', 'landmarks', 'portrait', 'process', 'verify', 'video', 'warp']
