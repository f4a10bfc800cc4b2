"""`intake status`: the campaign at a glance for the operator, as a table or as JSON.

Both read the one snapshot (`storage.read_model.snapshot`) the digest and the desk read, so
"accepted" and "needs a person" mean the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from domain.campaign import Campaign
from domain.kinds import MailState, NomineeKind
from domain.snapshot import MessageEntry
from domain.wording import job_label, job_outcome_label, status_label
from service.runtime import App
from storage import dispatches, outbox, read_model


def status_data(application: App) -> dict[str, Any]:
    c = application.campaign
    allocated = c.allocation.award

    def local(moment: datetime | None) -> str | None:
        return moment.astimezone(c.tz).isoformat(timespec="minutes") if moment else None

    def describe(m: MessageEntry) -> dict[str, Any]:
        return {
            "id": m.id,
            "from": m.from_address,
            "subject": m.subject,
            "received_at": local(m.received_at),
            "detail": m.outcome_detail,
            "error": m.error,
        }

    with Session(application.engine) as session:
        snapshot = read_model.snapshot(session, c, datetime.now(UTC))
        counts = outbox.mail_counts(session)
        job_runs = [
            {
                "job": r.job,
                "started_at": local(r.started_at),
                "finished_at": local(r.finished_at),
                "outcome": r.outcome,
                "detail": r.detail,
            }
            for r in dispatches.last_job_runs(session)
        ]
    units: list[dict[str, Any]] = []
    for entry in snapshot.units:
        sub = entry.current
        allocation = c.allocation_for(entry.unit.code)
        units.append(
            {
                "code": entry.unit.code,
                "name": entry.unit.name,
                "kind": entry.unit.kind.value,
                "allocation": {
                    "collectives": allocation.collectives,
                    "individuals": allocation.individuals,
                },
                "submissions": entry.submissions,
                "current": None
                if sub is None
                else {
                    "version": sub.version,
                    "status": sub.status,
                    "late": sub.late,
                    "received_at": local(sub.received_at),
                    "errors": sub.errors,
                    "warnings": sub.warnings,
                    "proposed": {
                        code: {k.value: entry.proposed(code, k) for k in NomineeKind}
                        for code in c.awards
                    },
                },
            }
        )
    return {
        "campaign": {
            "code": c.code,
            "title": c.title,
            "deadline": local(c.closes_at),
            "deadline_stated": c.deadline.stated,
        },
        "units": units,
        "totals": {
            "allocation": {
                "collectives": c.allocation.total.collectives,
                "individuals": c.allocation.total.individuals,
            },
            "accepted": {
                k.value: sum(e.proposed(allocated, k) for e in snapshot.accepted_units)
                for k in NomineeKind
            },
        },
        "to_read": [describe(m) for m in snapshot.to_read],
        "not_processed": [describe(m) for m in snapshot.not_processed],
        "outbox": {str(state): n for state, n in counts.items()},
        "mail_problems": [
            {"id": m.id, "to": m.recipient, "state": m.state, "error": m.error}
            for m in snapshot.failed_mail
        ],
        "jobs": job_runs,
    }


def _vietnamese(iso: str | None) -> str:
    """An ISO moment from the JSON as the table shows it: '14:05 24/05/2021'."""
    return datetime.fromisoformat(iso).strftime("%H:%M %d/%m/%Y") if iso else ""


def status_table(data: dict[str, Any], c: Campaign) -> str:
    """The status as the operator reads it in a terminal."""
    lines: list[str] = []
    out = lines.append
    allocated = c.allocation.award
    out(f"{c.title}\nThời hạn: {c.deadline.stated} ({c.last_moment_text})\n")
    width = max((len(u["name"]) for u in data["units"]), default=10) + 2  # names whole
    header = f"{'Mã':<14}{'Đơn vị':<{width}}{'Lần':>4}  {'Trạng thái':<22}{'Nhận lúc':<18}{'Tập thể':>9}{'Cá nhân':>9}{'TTg':>6}{'Lỗi':>5}"
    out(header)
    out("-" * len(header))
    other_awards = [code for code in c.awards if code != allocated]
    for u in data["units"]:
        cur = u["current"]
        alloc = u["allocation"]
        if cur is None:
            out(
                f"{u['code']:<14}{u['name']:<{width}}{'-':>4}  {status_label(None):<22}{'':<18}"
                f"{'0/' + str(alloc['collectives']):>9}{'0/' + str(alloc['individuals']):>9}{'':>6}{'':>5}"
            )
            continue
        p = cur["proposed"][allocated]
        pm = sum(
            cur["proposed"][code][k] for code in other_awards for k in ("collective", "individual")
        )
        received = _vietnamese(cur["received_at"])
        out(
            f"{u['code']:<14}{u['name']:<{width}}{cur['version']:>4}  {status_label(cur['status']):<22}{received:<18}"
            f"{str(p['collective']) + '/' + str(alloc['collectives']):>9}"
            f"{str(p['individual']) + '/' + str(alloc['individuals']):>9}{pm:>6}{cur['errors']:>5}"
        )
    t = data["totals"]
    out(
        f"\nĐã tiếp nhận: {t['accepted']['collective']}/{t['allocation']['collectives']} tập thể, "
        f"{t['accepted']['individual']}/{t['allocation']['individuals']} cá nhân."
    )
    if data["to_read"]:
        out("\nThư cần người đọc (địa chỉ chưa đăng ký, nghi giả mạo, quá lớn, thư trao đổi):")
        for m in data["to_read"]:
            out(f"  #{m['id']} {m['from']} – {m['subject']} ({m['detail']})")
    if data["not_processed"]:
        out("\nThư chưa xử lý được (xem lỗi, sửa rồi chạy `intake reprocess SỐ`):")
        for m in data["not_processed"]:
            out(f"  #{m['id']} {m['from']} – {m['subject']}: {m['error']}")
    if data["jobs"]:
        out("\nLần chạy gần nhất của các việc theo lịch:")
        for j in data["jobs"]:
            started = _vietnamese(j["started_at"])
            detail = f": {j['detail']}" if j["outcome"] == "failed" else ""
            out(f"  {job_label(j['job'])}: {started} – {job_outcome_label(j['outcome'])}{detail}")
    counts = data["outbox"]
    if data["mail_problems"]:
        out("\nThư gửi đi cần xem lại (không rõ đã đến nơi, hoặc bị từ chối):")
    for m in data["mail_problems"]:
        out(
            f"  thư gửi đi #{m['id']} tới {m['to']} ({m['state']}): {m['error']} – gửi lại: intake resend {m['id']}"
        )
    if counts.get(MailState.QUEUED) or counts.get(MailState.FAILED):
        out(
            f"\nThư trả lời: {counts.get(MailState.QUEUED, 0)} đang chờ gửi, "
            f"{counts.get(MailState.FAILED, 0)} không gửi được."
        )
    return "\n".join(lines)
