"""shotline: the engine of the ``shotline`` CLI, importable from Python and DCCs.

Everything here is implemented in Rust (``shotline._shotline``); this file only re-exports it.

>>> import shotline
>>> fs = shotline.FrameSet("1-10x2")
>>> list(fs), len(fs), 3 in fs, fs.invertedFrameRange()
([1, 3, 5, 7, 9], 5, True, '2-8x2')
"""

from ._shotline import (  # noqa: F401
    FileSequence,
    FrameSet,
    Project,
    Sequence,
    ShotlineError,
    __version__,
    find_sequence,
    find_sequences,
    probe,
)
from . import render  # noqa: F401

__all__ = [
    "FileSequence",
    "FrameSet",
    "Project",
    "Sequence",
    "ShotlineError",
    "find_sequence",
    "find_sequences",
    "probe",
    "render",
]
