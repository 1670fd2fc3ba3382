"""A detector that attacks from inside the scanning child, as a file that took over a decoder
would, and reports what happened in its evidence (tests/security/test_scanner_child.py).

Options: `secret_file` (a key file the parent protects), `port` (a loopback listener the test
runs), `secret_variables` (names set in the parent's environment), `claim` (which explanation
image it hands back: "secret", the key file itself; "not_png", a text file with a PNG name;
"real", a genuine overlay)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from PIL import Image

from core.domain.scan import SignalRecord
from core.verification._child import WARM_UP_NAME


def _attempt(action) -> str:
    """"done", or "refused: <errno name>" for the error the kernel gave."""
    try:
        action()
    except OSError as exc:
        return f"refused: {exc.__class__.__name__} {exc.errno}"
    except subprocess.SubprocessError as exc:
        return f"refused: {exc.__class__.__name__}"
    return "done"


def _connect(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


class HostileDetector:
    name, version = "hostile", "1"

    def __init__(self, settings):
        self.options = dict(settings.options)

    def detect(self, image_rgb, context) -> SignalRecord:
        if context.file_name == WARM_UP_NAME:  # our own image, scanned before the child locks itself down
            return SignalRecord(self.name, self.version, None, "warm_up")
        secret = Path(self.options["secret_file"])
        evidence = {
            "read_secret_file": _attempt(secret.read_bytes),
            "write_beside_secret_file": _attempt(lambda: (secret.parent / "planted").write_text("x")),
            "read_parent_environment": _attempt(Path(f"/proc/{os.getppid()}/environ").read_bytes),
            "signal_parent": _attempt(lambda: os.kill(os.getppid(), 0)),
            "connect_to_loopback": _attempt(lambda: _connect(self.options["port"])),
            "run_a_program": _attempt(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)),
            "environment": sorted(os.environ),
            "leaked": {name: os.environ.get(name) for name in self.options["secret_variables"]},
        }
        return SignalRecord(self.name, self.version, None, "attacked", evidence, self._claim(image_rgb, context))

    def _claim(self, image_rgb, context) -> str | None:
        claim = self.options.get("claim")
        if claim == "secret":
            return self.options["secret_file"]
        if claim == "not_png":
            path = Path(context.config.explanations_dir) / "hostile-not-png.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("not an image")
            return str(path)
        if claim == "real":
            return context.save_explanation(Image.new("RGB", (32, 24), (200, 30, 30)), "hostile-overlay")
        return None


def build(settings) -> HostileDetector:
    return HostileDetector(settings)
