"""Browser tests: Playwright drives Debian's Chromium, headless, against `streamlit run app.py`."""
import time

import requests


def wait_until_healthy(base_url: str, timeout: float = 60.0) -> None:
    """Until Streamlit answers its health check (it raises if it never does)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base_url}/_stcore/health", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url} did not become healthy within {timeout:.0f} s")
        time.sleep(0.3)
