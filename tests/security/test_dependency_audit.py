"""The dependency audit (security/audit.py, `make audit`) on recorded answers of pip-audit and of the
package registry (tests/security/fixtures/), fed through its two seams: `pip_audit` (the JSON report)
and `fetch` (the registry's project JSON, served here by a loopback HTTP server). No test reaches the
network, so these results do not change with the day's advisories or releases."""
from __future__ import annotations

import json
import textwrap
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.localnet import free_port
from security import audit
from security.audit import COULD_NOT_RUN, PASSED, VULNERABLE, CouldNotAsk

FIXTURES = Path(__file__).parent / "fixtures"
REASON = "We never call the xmlattr filter: no template in templates/ uses it, and none takes user keys."


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


class Registry:
    """The registry's project endpoint over loopback HTTP, answering with the recorded project JSON of
    fixtures/registry/ (404 for any other name), plus extra answers a test adds."""

    def __init__(self) -> None:
        self.projects = {p.stem: json.loads(p.read_text()) for p in (FIXTURES / "registry").glob("*.json")}
        self.asked: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pypi/{{name}}/json"

    def _handler(self):
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.split("/")[2]
                registry.asked.append(name)
                body = json.dumps(registry.projects[name]).encode() if name in registry.projects else b"{}"
                self.send_response(200 if name in registry.projects else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def fetch(self, name: str) -> dict | None:
        return audit.fetch_project(name, url=self.url)


@pytest.fixture
def registry():
    registry = Registry()
    threading.Thread(target=registry.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield registry
    registry.server.shutdown()
    registry.server.server_close()


def run(tmp_path, pins: str, pip_audit, fetch, accepted: str = "") -> audit.AuditReport:
    """The audit of `pins` against the acceptance file `accepted`, through the given seams only."""
    (tmp_path / "constraints.txt").write_text(textwrap.dedent(pins))
    (tmp_path / "accepted.toml").write_text(textwrap.dedent(accepted))
    report = audit.run_audit(tmp_path / "constraints.txt", tmp_path / "accepted.toml", pip_audit=pip_audit, fetch=fetch)
    print(report.text())
    return report


def answers(name: str):
    return lambda constraints: recorded(name)


def fails(constraints):
    raise CouldNotAsk("pip-audit produced no JSON report (exit status 1): ConnectionError")


VULNERABLE_PINS = "jinja2==3.1.2\nrequests==2.34.2\n"


def test_a_vulnerable_pin_fails_the_audit(tmp_path, registry):
    report = run(tmp_path, VULNERABLE_PINS, answers("pip-audit-jinja2-3.1.2.json"), registry.fetch)
    assert report.exit_status == VULNERABLE
    assert [(f.package, f.version, f.id, f.aliases, f.fixed_in) for f in report.vulnerabilities.unaccepted] == [
        ("jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("CVE-2024-22195",), ("3.1.3",)),
        ("jinja2", "3.1.2", "GHSA-h75v-3vvj-5mfj", ("CVE-2024-34064",), ("3.1.4",))]
    assert report.audit.checked == {"jinja2": "pip-audit", "requests": "pip-audit"}
    assert registry.asked == []  # pip-audit audited every pin
    assert "NOT ACCEPTED: jinja2==3.1.2 GHSA-h5c8-rqwp-cp95" in report.text()
    assert "FAIL: 2 known vulnerabilities not accepted (exit status 1" in report.text()


def test_accepted_vulnerabilities_pass_by_id_or_alias(tmp_path, registry):
    report = run(tmp_path, VULNERABLE_PINS, answers("pip-audit-jinja2-3.1.2.json"), registry.fetch, f'''
        [[dependency]]
        package = "Jinja2"
        id = "CVE-2024-22195"
        reason = "{REASON}"
        [[dependency]]
        package = "jinja2"
        id = "GHSA-h75v-3vvj-5mfj"
        version = "3.1.2"
        reason = "{REASON}"
    ''')
    assert report.exit_status == PASSED and report.vulnerabilities.unaccepted == []
    assert len(report.vulnerabilities.accepted) == 2 and report.vulnerabilities.stale == []
    assert "PASS: no known vulnerability that is not accepted (exit status 0" in report.text()


def test_an_acceptance_for_another_version_or_without_a_reason_accepts_nothing(tmp_path, registry):
    report = run(tmp_path, VULNERABLE_PINS, answers("pip-audit-jinja2-3.1.2.json"), registry.fetch, f'''
        [[dependency]]
        package = "jinja2"
        id = "GHSA-h5c8-rqwp-cp95"
        version = "3.1.1"
        reason = "{REASON}"
        [[dependency]]
        package = "jinja2"
        id = "GHSA-h75v-3vvj-5mfj"
        reason = "false positive"
    ''')
    assert report.exit_status == VULNERABLE and len(report.vulnerabilities.unaccepted) == 2
    assert "INVALID: [[dependency]] #2 jinja2 id=GHSA-h75v-3vvj-5mfj: reason 'false positive'" in report.text()


def test_a_stale_acceptance_is_reported_only_for_a_package_that_was_checked(tmp_path, registry):
    report = run(tmp_path, "jinja2==3.1.6\nnumpy==2.4.6\n", answers("pip-audit-mirror.json"), registry.fetch, f'''
        [[dependency]]
        package = "jinja2"
        id = "GHSA-h5c8-rqwp-cp95"
        reason = "{REASON}"
        [[dependency]]
        package = "numpy"
        id = "GHSA-0000-0000-0000"
        reason = "{REASON}"
    ''')
    assert report.audit.checked == {"jinja2": "registry"} and list(report.audit.not_checked) == ["numpy"]
    assert [a.fields["package"] for a in report.vulnerabilities.stale] == ["jinja2"]
    assert "STALE ACCEPTANCE (matches no current finding; remove it): [[dependency]] #1 jinja2" in report.text()
    assert report.exit_status == PASSED  # reported, not a failure: it follows the day's advisories


def test_a_newer_release_is_no_finding_but_a_pin_not_checked(tmp_path, registry):
    pins = "jinja2==3.1.6\nnumpy==2.4.6\nrequests==2.34.2\nrd-no-such-project==1.0\n"
    report = run(tmp_path, pins, answers("pip-audit-mirror.json"), registry.fetch)
    assert report.exit_status == PASSED and report.audit.findings == []
    assert report.audit.checked == {"jinja2": "registry", "requests": "registry"}
    assert report.audit.not_checked == {
        "numpy": "pip-audit: Dependency not found on PyPI and could not be audited: numpy (2.4.6); "
                 "registry: pinned 2.4.6, latest 2.5.5: advisories are listed for the latest release only",
        "rd-no-such-project": "pip-audit: Dependency not found on PyPI and could not be audited: "
                              "rd-no-such-project (1.0); registry: no project of this name"}
    assert "4 pins: 2 checked (0 by pip-audit, 2 through the registry), 2 not checked" in report.text()
    assert "== not checked (2)" in report.text()


def test_an_advisory_of_the_latest_release_applies_to_a_pin_at_latest(tmp_path, registry):
    registry.projects["requests"]["vulnerabilities"] = [
        {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fixed_in": ["2.34.3"], "summary": None,
         "details": "Something bad", "link": "https://osv.dev/vulnerability/PYSEC-2099-1", "source": "osv",
         "withdrawn": None},
        {"id": "PYSEC-2099-2", "aliases": [], "fixed_in": [], "details": "Withdrawn",
         "withdrawn": "2099-01-01T00:00:00Z"}]
    report = run(tmp_path, "requests==2.34.2\n", fails, registry.fetch)
    [finding] = report.vulnerabilities.unaccepted
    assert (finding.id, finding.aliases, finding.fixed_in, finding.via) == (
        "PYSEC-2099-1", ("CVE-2099-0001",), ("2.34.3",), "registry")
    assert report.exit_status == VULNERABLE
    assert "note: pip-audit produced no JSON report" in report.text()


def test_an_unreachable_registry_means_the_audit_could_not_run(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/pypi/{{name}}/json"
    asked = []

    def fetch(name):
        asked.append(name)
        return audit.fetch_project(name, url=closed)

    report = run(tmp_path, "jinja2==3.1.6\nnumpy==2.4.6\n", answers("pip-audit-mirror.json"), fetch)
    assert report.exit_status == COULD_NOT_RUN and report.audit.checked == {}
    assert asked == ["jinja2"]  # one probe, not one timeout per pin
    assert set(report.audit.not_checked) == {"jinja2", "numpy"}
    assert all(why.endswith("registry: cannot be reached") for why in report.audit.not_checked.values())
    assert "note: the package registry cannot be reached: ConnectionError" in report.text()
    assert "AUDIT COULD NOT RUN: not one pin could be checked (exit status 2" in report.text()


def test_pins_pip_audit_checked_are_judged_when_the_registry_is_unreachable(tmp_path):
    closed = partial(audit.fetch_project, url=f"http://127.0.0.1:{free_port()}/pypi/{{name}}/json")
    report = run(tmp_path, VULNERABLE_PINS + "numpy==2.4.6\n", answers("pip-audit-jinja2-3.1.2.json"), closed, f'''
        [[dependency]]
        package = "jinja2"
        id = "CVE-2024-22195"
        reason = "{REASON}"
        [[dependency]]
        package = "jinja2"
        id = "CVE-2024-34064"
        reason = "{REASON}"
    ''')
    assert report.audit.checked == {"jinja2": "pip-audit", "requests": "pip-audit"}
    assert report.audit.not_checked == {"numpy": "registry: cannot be reached"}
    assert report.exit_status == PASSED
