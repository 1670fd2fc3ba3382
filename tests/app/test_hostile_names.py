"""File names, metadata and Salesforce names carrying HTML or script render as plain text."""
import re
from pathlib import Path

from core.domain.roles import Role
from core.settings import PROJECT_ROOT
from tests.app.seed import flagged_item
from tests.app.test_shell import signed_in

PAYLOAD = '<img src=x onerror="alert(1)"><script>alert(2)</script>[click](javascript:alert(3))'


def test_hostile_names_and_metadata_render_only_as_text(ui_app):
    item_id = flagged_item(ui_app, 1, file_name=PAYLOAD + ".jpg", provenance={"title": PAYLOAD},
                           records=[{"link_id": "06A000000000000001", "entity_id": "001000000000000001",
                                     "entity_type": "Account", "entity_name": PAYLOAD}])
    at = signed_in(Role.REVIEWER)
    feed = at.dataframe[0].value  # Live's feed: a table cell is text
    assert feed["file_name"][0] == PAYLOAD + ".jpg"
    at.switch_page("pages/review.py").run()
    at.session_state["review_item"] = item_id
    at.run()
    assert not at.exception
    assert f"File name: {PAYLOAD}.jpg" in [t.value for t in at.text]  # st.text: preformatted, never parsed
    markdown = [m.value for m in [*at.markdown, *at.caption, *at.title, *at.header, *at.subheader,
                                  *at.success, *at.error, *at.warning, *at.info]]
    assert not any("<script" in m or "onerror" in m or "javascript:" in m for m in markdown), markdown
    records = next(df.value for df in at.dataframe if "entity_name" in df.value)
    assert records["entity_name"][0] == PAYLOAD
    assert any("<script>alert(2)</script>" in j.value for j in at.json)  # provenance as a JSON tree


def test_no_page_allows_raw_html():
    sources = [*(PROJECT_ROOT / "pages").glob("*.py"), *(PROJECT_ROOT / "ui").glob("*.py"), PROJECT_ROOT / "app.py"]
    offenders = [p.name for p in sources if re.search(r"unsafe_allow_html\s*=\s*True|st\.html\(|components\.html",
                                                      Path(p).read_text())]
    assert not offenders
