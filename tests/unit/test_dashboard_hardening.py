"""Dashboard hardening: no raw HTML (file names, claims and messages come from attackers too), and
the Streamlit settings that keep XSRF protection, size limits and privacy on."""
import re

from core.settings import PROJECT_ROOT

RAW_HTML = re.compile(r"unsafe_allow_html\s*=\s*True|\bst\.html\(|components\.v1\.html|components\.html\(")


def test_no_page_or_ui_helper_renders_raw_html():
    files = [PROJECT_ROOT / "app.py", *(PROJECT_ROOT / "pages").glob("*.py"), *(PROJECT_ROOT / "ui").glob("*.py")]
    assert len(files) > 10
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{n}" for path in files
                 for n, line in enumerate(path.read_text().splitlines(), 1) if RAW_HTML.search(line)]
    assert offenders == []


def test_the_pattern_catches_what_it_is_for():
    assert RAW_HTML.search('st.markdown(name, unsafe_allow_html=True)')
    assert RAW_HTML.search('st.html(body)')
    assert not RAW_HTML.search('st.markdown(name)')


def test_streamlit_config_keeps_the_hardening():
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False  # a compliance tool does not phone home
    assert 0 < config["server"]["maxUploadSize"] <= 50 and 0 < config["server"]["maxMessageSize"] <= 200
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks in users' browsers
