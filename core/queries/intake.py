"""What the verification engine accepts, for the pages that take a file: the one list, read from the
engine's intake (core/verification/intake.py KINDS), never copied."""
from __future__ import annotations

from core.verification.intake import KINDS


def accepted_extensions() -> list[str]:
    """File name endings the engine scans ("jpg", "png"...), for an uploader's `type`."""
    return sorted({ext.lstrip(".") for kind in KINDS.values() if kind.accepted for ext in kind.extensions})


def accepted_kinds() -> list[str]:
    """The accepted kinds in words: "a JPEG image", "a PDF document"..."""
    return [kind.label for kind in KINDS.values() if kind.accepted]
