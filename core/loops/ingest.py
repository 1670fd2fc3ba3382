"""Ingest: find new files in Salesforce, download them with bounded memory into the media store,
register each one.

Never skips a file: the watermark only moves past rows that are registered, each poll re-reads an
overlap window, and a version already held is recognised by its ContentVersion id."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.adapters import worker_state
from core.adapters.app_settings import thresholds
from core.adapters.media import StoredFile
from core.adapters.salesforce import access, content
from core.adapters.salesforce.access import explain_error
from core.adapters.salesforce.gateway import FileTooLarge, SalesforceGateway, parse_sf_datetime, soql_ids
from core.clock import utcnow
from core.commands import items
from core.domain.lifecycle import UNVERIFIED
from core.domain.records import is_customer_record
from core.domain.roles import Actor
from core.faultpoints import crash_point
from core.models import MediaItem

if TYPE_CHECKING:  # the composition root builds the app; this module only uses it
    from core.bootstrap import App

log = logging.getLogger(__name__)
SOURCE = "salesforce"
INGEST = Actor.system("ingest")
MIME_BY_TYPE = {"JPG": "image/jpeg", "JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                "WEBP": "image/webp", "TIFF": "image/tiff", "TIF": "image/tiff", "HEIC": "image/heic",
                "PDF": "application/pdf", "MP4": "video/mp4", "MOV": "video/quicktime", "WEBM": "video/webm"}


@dataclass
class IngestReport:
    seen: int = 0
    registered: list[int] = field(default_factory=list)
    already_held: int = 0
    too_large: int = 0
    held: int = 0  # held pre-emptively under pressure


def _state(app: App):
    return worker_state.watermark(app.db, SOURCE)


def _save_state(app: App, watermark: datetime | None, watermark_id: str | None, error: str | None) -> None:
    worker_state.save_watermark(app.db, SOURCE, watermark, watermark_id, error)


def _held(app: App, version_ids: list[str]) -> set[str]:
    with app.db.reader() as s:
        return set(s.execute(select(MediaItem.external_id).where(
            MediaItem.source == SOURCE, MediaItem.external_id.in_(version_ids))).scalars())


def _download(app: App, gw: SalesforceGateway, version_id: str) -> StoredFile | None:
    """The version's bytes, streamed into the media store; None when over the size limit."""
    with app.media.receive() as incoming:
        try:
            _, sha256 = gw.download(version_id, incoming.path, app.scan_policy.max_file_bytes)
        except FileTooLarge:
            return None
        return app.media.keep(incoming, sha256)


def _register(app: App, gw: SalesforceGateway, row: dict, links: list[dict], org: str) -> tuple[int, bool]:
    stored = _download(app, gw, row["Id"])
    too_large = stored is None  # registered all the same; the scan marks it unscannable (fail closed)
    sha256, size = (None, row.get("ContentSize")) if too_large else (stored.sha256, stored.size)
    crash_point("after_download")
    records = [link for link in links if is_customer_record(link)]
    ext = (row.get("FileExtension") or "").upper()
    item_id = items.register_item(
        app.uow(), actor=INGEST, source=SOURCE, external_id=row["Id"],
        file_name=row.get("PathOnClient") or row.get("Title") or row["Id"],
        declared_type=MIME_BY_TYPE.get(ext) or MIME_BY_TYPE.get((row.get("FileType") or "").upper()),
        size_bytes=size, sha256=sha256, storage_path=None if too_large else str(stored.path), org_id=org,
        content_document_id=row["ContentDocumentId"],
        source_object=records[0]["entity_type"] if records else None,
        uploaded_by=row.get("CreatedById"),
        uploaded_at=parse_sf_datetime(row["CreatedDate"]) if row.get("CreatedDate") else None,
        linked_records=links,
        provenance={"org": org, "content_version_id": row["Id"], "content_document_id": row["ContentDocumentId"],
                    "version_number": row.get("VersionNumber"), "checksum_md5": row.get("Checksum"),
                    "system_modstamp": row.get("SystemModstamp"), "title": row.get("Title"),
                    "first_publish_location_id": row.get("FirstPublishLocationId"), "file_type": row.get("FileType"),
                    "download": "refused: larger than the size limit" if too_large else "complete"})
    return item_id, too_large


def pressure(app: App, gw: SalesforceGateway | None) -> str | None:
    """Why the pipeline is under pressure now, or None."""
    cfg, limit_s = app.settings.preemptive, thresholds(app.db, app.settings).backlog_limit_minutes * 60
    with app.db.reader() as s:
        oldest = s.execute(select(func.min(MediaItem.received_at)).where(
            MediaItem.state.in_([x.value for x in UNVERIFIED]))).scalar_one()
    if oldest is not None and (utcnow() - oldest).total_seconds() > limit_s:
        return f"the oldest unverified file has waited {(utcnow() - oldest).total_seconds():.0f} s " \
               f"(limit {limit_s:.0f} s)"
    if gw is not None and gw.usage is not None and gw.usage.remaining_share < cfg.api_floor:
        return f"only {gw.usage.remaining_share:.0%} of the org's API budget is left"
    return None


def hold_under_pressure(app: App, gw: SalesforceGateway | None, item_ids: list[int]) -> int:
    """Pre-emptive quarantine: hold new files on high-risk records while under pressure."""
    cfg = app.settings.preemptive
    if not cfg.enabled or not item_ids:
        return 0
    why = pressure(app, gw)
    if why is None:
        return 0
    with app.db.reader() as s:
        targets = list(s.execute(select(MediaItem.id).where(
            MediaItem.id.in_(item_ids), MediaItem.source_object.in_(cfg.objects))).scalars())
    return sum(items.hold_preemptively(app.uow(), actor=INGEST, item_id=i, reason=f"pre-emptive hold: {why}")
               for i in targets)


def register_versions(app: App, gw: SalesforceGateway, version_ids: list[str]) -> IngestReport:
    """Fetch and register these ContentVersions now (their upload events, the verification API), with
    one query for the versions and one for their links; idempotent. A version the org no longer has
    (or does not show) is left out."""
    report = IngestReport(seen=len(version_ids))
    fresh = sorted(set(version_ids) - _held(app, version_ids))
    report.already_held = len(version_ids) - len(fresh)
    if not fresh:
        return report
    rows = list(gw.query(f"SELECT {', '.join(content.VERSION_FIELDS)} FROM ContentVersion "
                         f"WHERE Id IN {soql_ids(fresh)}"))
    links = content.links_of(gw, sorted({r["ContentDocumentId"] for r in rows})) if rows else {}
    for row in rows:
        item_id, too_large = _register(app, gw, row, links.get(row["ContentDocumentId"], []), gw.org_base)
        report.registered.append(item_id)
        report.too_large += too_large
    return report


def register_version(app: App, gw: SalesforceGateway, version_id: str) -> int:
    """Fetch and register one ContentVersion now (the verification API); idempotent."""
    register_versions(app, gw, [version_id])
    with app.db.reader() as s:
        item_id = s.execute(select(MediaItem.id).where(MediaItem.source == SOURCE,
                                                       MediaItem.external_id == version_id)).scalar_one_or_none()
    if item_id is None:
        raise LookupError(f"no ContentVersion {version_id} in the org")
    return item_id


def poll(app: App, gw: SalesforceGateway, *, overlap: timedelta = timedelta(seconds=120),
         since: datetime | None = None) -> IngestReport:
    """One pass over new ContentVersions. `since` overrides the watermark (backfill)."""
    state = _state(app)
    start = since if since is not None else state.watermark_at
    report, newest, newest_id = IngestReport(), state.watermark_at, state.watermark_id
    org = gw.org_base
    rows = content.versions_since(gw, start, overlap)
    try:
        for page in _pages(rows, 200):
            report.seen += len(page)
            held = _held(app, [r["Id"] for r in page])
            fresh = [r for r in page if r["Id"] not in held]
            report.already_held += len(page) - len(fresh)
            links = content.links_of(gw, sorted({r["ContentDocumentId"] for r in fresh})) if fresh else {}
            page_items = []
            for row in fresh:
                item_id, too_large = _register(app, gw, row, links.get(row["ContentDocumentId"], []), org)
                page_items.append(item_id)
                report.too_large += too_large
            report.registered.extend(page_items)
            report.held += hold_under_pressure(app, gw, page_items)
            stamp = parse_sf_datetime(page[-1]["SystemModstamp"])
            if newest is None or stamp >= newest:
                newest, newest_id = stamp, page[-1]["Id"]
                _save_state(app, newest, newest_id, None)
    except Exception as error:
        _save_state(app, None, None, explain_error(error))
        raise
    _save_state(app, newest, newest_id, _access_problem(gw, state.last_error))
    return report


def _access_problem(gw: SalesforceGateway, before: str | None) -> str | None:
    """What the integration user lacks, named (asked of the org once an hour). A pass that cannot see
    every file still registers the ones it sees, and says here why the others stay unseen."""
    try:
        problem = "; ".join(access.known_problems(gw, gw.cfg.fields)) or None
    except Exception as error:  # the org is busy: the files were ingested; ask again at the next pass
        log.warning("Salesforce: could not read the integration user's permissions: %s", explain_error(error))
        return None
    if problem and problem != before:
        log.warning("Salesforce: %s", problem)
    return problem


def _pages(rows, size: int):
    page = []
    for row in rows:
        page.append(row)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page



