"""`streamlit run app.py` starts headless and answers its health check."""
import os
import subprocess
import sys

import requests

from core.bootstrap import migrate
from core.localnet import free_port, wait_until_up
from core.settings import PROJECT_ROOT
from tests.conftest import TEST_AUDIT_KEY


def test_streamlit_run_serves_health_and_the_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'rd.db'}"
    migrate(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "RD_VAR_DIR": str(tmp_path),
           "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode()}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = wait_until_up(f"http://127.0.0.1:{port}/_stcore/health")
        assert health.status_code == 200 and health.text == "ok"
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
