"""The papers the Department forwards, with their I/O: the Tờ trình draft, and the forward
package (workbook, Tờ trình, every unit's current dossier, a manifest) written once the units'
deadline has passed, or on demand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.kinds import DispatchKind
from domain.snapshot import Snapshot
from pipeline.export import build_workbook
from pipeline.package import DossierFile, build_package
from pipeline.to_trinh import Drafted, draft_to_trinh
from service.context import Context
from storage import dispatches, read_model
from storage.decisions import effective_campaign

log = logging.getLogger(__name__)


def _snapshot(engine: Engine, ctx: Context, now: datetime, as_of: bool) -> Snapshot:
    with Session(engine) as session:
        return read_model.snapshot(session, ctx.campaign, now, as_of=as_of)


def draft(engine: Engine, ctx: Context, now: datetime, as_of: bool = False) -> Drafted:
    """The Tờ trình as of `now`, dated that day in the campaign's time zone."""
    snapshot = _snapshot(engine, ctx, now, as_of)
    return draft_to_trinh(snapshot, _day(ctx, now))


def _day(ctx: Context, now: datetime) -> date:
    return now.astimezone(ctx.campaign.tz).date()


@dataclass(frozen=True)
class Package:
    path: Path
    files: int
    units: int


def write_package(
    engine: Engine, ctx: Context, now: datetime, folder: Path, as_of: bool = False
) -> Package:
    """The forward package as of `now` in `folder` (one .zip, named by campaign and time)."""
    snapshot = _snapshot(engine, ctx, now, as_of)
    papers = [
        DossierFile(entry, paper, ctx.files.read(paper.stored_path) if paper.stored_path else None)
        for entry in snapshot.accepted_units
        for paper in entry.papers
    ]
    for missing in (f for f in papers if f.payload is None):
        log.warning(
            "package: %s's %s is not in the file store; listed as missing",
            missing.entry.unit.code,
            missing.paper.filename,
        )
    drafted = draft_to_trinh(snapshot, _day(ctx, now))
    archive = build_package(snapshot, build_workbook(snapshot), drafted.payload, papers)
    local = now.astimezone(ctx.campaign.tz)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Ho-so-khen-thuong-{ctx.campaign.code}-{local:%Y%m%d-%H%M}.zip"
    partial = path.with_suffix(".zip.part")
    partial.write_bytes(archive)
    partial.replace(path)  # whole or not at all: a reader never sees half an archive
    files = sum(1 for f in papers if f.payload is not None)
    log.info("forward package written: %s (%d dossier files)", path, files)
    return Package(path, files, len(snapshot.accepted_units))


def package_after_deadline(
    engine: Engine, ctx: Context, now: datetime, folder: Path
) -> Package | None:
    """Once every unit's deadline has passed (extensions included), the package, once: written
    first, then recorded (`Dispatch`), so a record never points at a file that is not there."""
    with Session(engine) as session:
        campaign = effective_campaign(session, ctx.campaign)
        closes = max(campaign.closes_at_for(u.code) for u in campaign.units)
        if now < closes or dispatches.last_dispatch(
            session, campaign.code, DispatchKind.PACKAGE, now
        ):
            return None
    package = write_package(engine, ctx, now, folder)
    with Session(engine) as session:
        recorded = dispatches.dispatch_once(
            session,
            ctx.campaign.code,
            DispatchKind.PACKAGE,
            "after-deadline",
            now,
            str(package.path),
        )
        session.commit()
    if not recorded:
        log.info("another instance recorded the package first; %s kept anyway", package.path)
    return package if recorded else None


def last_package(engine: Engine, ctx: Context, now: datetime) -> str:
    """Where the latest forward package was written, or "" before there is one."""
    with Session(engine) as session:
        found = dispatches.last_dispatch(session, ctx.campaign.code, DispatchKind.PACKAGE, now)
        return found.detail if found else ""
