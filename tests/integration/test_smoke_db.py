from sqlalchemy import text

from core.commands import items
from core.domain.roles import Actor


def test_register_item_is_recorded_and_audited(any_app):
    item_id = items.register_item(any_app.uow(), actor=Actor.system(), source="api",
                                  external_id="v1", file_name="selfie.jpg")
    with any_app.db.reader() as s:
        assert s.execute(text("select state from media_item where id=:i"), {"i": item_id}).scalar() == "received"
        assert s.execute(text("select count(*) from audit_event")).scalar() == 1
