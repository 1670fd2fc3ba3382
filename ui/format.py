"""Small display formatters."""
from __future__ import annotations


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
