"""CP mentoring ("home doctor", standard 9): cases, mentor visits, follow-ups, readiness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core import audit, mail, outbox
from app.core.accounts.models import Role, User
from app.core.errors import DomainError
from app.core.extensions import db
from app.core.links import external_url
from app.core.pdf import render_pdf_from_html
from app.core.timeutil import local_today, local_year_bounds, utcnow
from visits.models import (
    CaseChecklistEntry,
    CaseState,
    ChecklistItem,
    ChecklistStatus,
    CpStatus,
    FollowUpAction,
    MentoringCase,
    MentoringNeed,
    MentoringVisit,
)

#: The designation criteria a new installation starts with; staff can edit the list.
DEFAULT_CHECKLIST = [
    ("경영진의 수출통제 준수 의지 표명", "최고경영자의 자율준수 방침 선언과 사내 공표"),
    ("자율준수 조직 구성", "수출관리 책임자와 담당 조직, 권한과 책임의 명문화"),
    ("전략물자 판정 절차", "품목·기술의 해당 여부를 판정하고 기록하는 절차"),
    ("거래 심사 절차", "최종사용자·최종용도 확인과 우려 거래자 검색"),
    ("임직원 교육", "정기 교육 계획과 이수 기록"),
    ("기록 관리", "수출 관련 서류의 보존 기간과 방법"),
    ("내부 감사", "자율준수 체계의 정기 점검과 개선"),
    ("위반 시 보고 체계", "위반 발견 시 보고와 시정 조치 절차"),
]


class MentoringError(DomainError):
    """A refused operation in visits, with a message for the person."""


@dataclass
class Application:
    cp_status: CpStatus
    needs: list[MentoringNeed]
    preferred_dates: str
    contact_name: str
    contact_phone: str
    contact_email: str
    notes: str = ""


# --- Access ----------------------------------------------------------------------------------


def case_for(case_id: int, user: User) -> MentoringCase | None:
    """Staff, the assigned mentor, or the company's own contacts; nobody else."""
    case = db.session.get(MentoringCase, case_id)
    if case is None:
        return None
    if user.role == Role.STAFF or case.mentor_id == user.id:
        return case
    if user.role == Role.COMPANY and user.company_id == case.company_id:
        return case
    return None


def can_work_on(case: MentoringCase, user: User) -> bool:
    return user.role == Role.STAFF or case.mentor_id == user.id


def cases_for(user: User) -> list[MentoringCase]:
    query = select(MentoringCase).order_by(MentoringCase.created_at.desc())
    if user.role == Role.COMPANY:
        query = query.where(MentoringCase.company_id == user.company_id)
    elif user.role != Role.STAFF:
        query = query.where(MentoringCase.mentor_id == user.id)
    return list(db.session.execute(query).scalars())


def mentors() -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .where(User.role.in_([Role.INSTRUCTOR, Role.STAFF]), User.active.is_(True))
            .order_by(User.name)
        ).scalars()
    )


# --- The case --------------------------------------------------------------------------------


def apply(application: Application, *, by: User) -> MentoringCase:
    if by.role != Role.COMPANY or by.company_id is None:
        raise MentoringError(_("Only a company account can apply for CP mentoring."))
    if not application.needs:
        raise MentoringError(_("Choose at least one kind of help."), "needs")
    case = MentoringCase(
        company_id=by.company_id,
        created_by_id=by.id,
        cp_status=CpStatus(application.cp_status),
        needs=[MentoringNeed(need).value for need in application.needs],
        preferred_dates=application.preferred_dates,
        contact_name=application.contact_name,
        contact_phone=application.contact_phone,
        contact_email=application.contact_email,
        notes=application.notes,
        state=CaseState.APPLIED,
    )
    db.session.add(case)
    db.session.flush()
    for item in active_items():
        db.session.add(CaseChecklistEntry(case_id=case.id, item_id=item.id))
    return case


def _move(case: MentoringCase, target: CaseState, *, by: User, **details) -> None:
    if not case.state.can_become(target):
        raise MentoringError(
            _(
                "A case that is %(state)s cannot become %(target)s.",
                state=case.state.label,
                target=target.label,
            )
        )
    before = case.state
    case.state = target
    if target == CaseState.CLOSED:
        case.closed_at = utcnow()
    audit.record(f"mentoring.{target.value}", case, by=by, before=before.value, **details)
    outbox.queue(
        case.contact_email,
        _("Your CP mentoring case: %(state)s", state=target.label),
        "mentoring_status",
        context={
            "state": target.label,
            "mentor": case.mentor.name if case.mentor else None,
            "url": external_url("visits.mentoring_detail", case_id=case.id),
        },
        to_name=case.contact_name,
        responsible=mail.staff_contact(by),
    )


def assign(case: MentoringCase, mentor: User, *, by: User) -> None:
    if mentor.role not in (Role.INSTRUCTOR, Role.STAFF):
        raise MentoringError(_("A mentor is an instructor or a staff member."))
    case.mentor_id = mentor.id
    db.session.flush()
    db.session.refresh(case)
    _move(case, CaseState.ASSIGNED, by=by, mentor=mentor.name)


def start(case: MentoringCase, *, by: User) -> None:
    _move(case, CaseState.IN_PROGRESS, by=by)


def close(case: MentoringCase, *, by: User) -> None:
    _move(case, CaseState.CLOSED, by=by)


# --- Visits and follow-up actions -----------------------------------------------------------


def log_visit(
    case: MentoringCase,
    *,
    visited_on: date,
    attendees: str,
    topics: str,
    findings: str,
    actions: list[tuple[str, date]],
    by: User,
) -> MentoringVisit:
    if case.state not in (CaseState.ASSIGNED, CaseState.IN_PROGRESS):
        raise MentoringError(
            _("Visits are logged once a mentor is assigned and until the case closes.")
        )
    if visited_on > local_today():
        raise MentoringError(_("A visit is logged after it took place."), "visited_on")
    visit = MentoringVisit(
        case_id=case.id,
        visited_on=visited_on,
        mentor_id=case.mentor_id or by.id,
        attendees=attendees.strip(),
        topics=topics.strip(),
        findings=findings.strip(),
    )
    visit.actions = [
        FollowUpAction(case_id=case.id, description=text.strip(), due_on=due)
        for text, due in actions
        if text.strip()
    ]
    db.session.add(visit)
    if case.state == CaseState.ASSIGNED:
        case.state = CaseState.IN_PROGRESS
    db.session.flush()
    audit.record("mentoring.visit", visit, by=by, case_id=case.id, actions=len(visit.actions))
    return visit


def visits_of(case_id: int) -> list[MentoringVisit]:
    return list(
        db.session.execute(
            select(MentoringVisit)
            .where(MentoringVisit.case_id == case_id)
            .order_by(MentoringVisit.visited_on.desc())
        ).scalars()
    )


def complete_action(action: FollowUpAction, *, by: User) -> None:
    if action.done_on is None:
        action.done_on = local_today()
        audit.record("mentoring.action_done", action, by=by, case_id=action.case_id)


def visit_report_pdf(visit: MentoringVisit, case: MentoringCase) -> bytes:
    html = render_template("visits/visit_report.html", visit=visit, case=case, today=local_today())
    return render_pdf_from_html(html)


# --- Readiness checklist ----------------------------------------------------------------------


def active_items() -> list[ChecklistItem]:
    items = list(
        db.session.execute(
            select(ChecklistItem)
            .where(ChecklistItem.active.is_(True))
            .order_by(ChecklistItem.position)
        ).scalars()
    )
    if items or db.session.execute(select(func.count()).select_from(ChecklistItem)).scalar_one():
        return items
    for position, (title, description) in enumerate(DEFAULT_CHECKLIST, start=1):
        db.session.add(ChecklistItem(position=position, title=title, description=description))
    db.session.flush()
    return active_items()


def all_items() -> list[ChecklistItem]:
    """Every criterion, retired ones too, in order (seeding the defaults on first use)."""
    active_items()
    return list(
        db.session.execute(select(ChecklistItem).order_by(ChecklistItem.position)).scalars()
    )


def checklist(case: MentoringCase) -> list[tuple[ChecklistItem, CaseChecklistEntry]]:
    """Every active criterion with the case's entry (created for criteria added later)."""
    entries = {
        entry.item_id: entry
        for entry in db.session.execute(
            select(CaseChecklistEntry).where(CaseChecklistEntry.case_id == case.id)
        ).scalars()
    }
    rows = []
    for item in active_items():
        entry = entries.get(item.id)
        if entry is None:
            entry = CaseChecklistEntry(
                case_id=case.id, item_id=item.id, status=ChecklistStatus.NOT_STARTED
            )
            db.session.add(entry)
        rows.append((item, entry))
    db.session.flush()
    return rows


def readiness(statuses: list[ChecklistStatus]) -> float | None:
    """Percent ready: done counts fully, under way half, not started nothing."""
    if not statuses:
        return None
    return 100.0 * sum(status.weight for status in statuses) / len(statuses)


def update_checklist(
    case: MentoringCase, changes: dict[int, tuple[ChecklistStatus, str]], *, by: User
) -> None:
    for item, entry in checklist(case):
        if item.id in changes:
            entry.status, entry.notes = changes[item.id][0], changes[item.id][1].strip()
    audit.record("mentoring.checklist", case, by=by, changed=len(changes))


def save_items(rows: list[tuple[int | None, str, str, bool]], *, by: User) -> None:
    """Staff edit the criteria: (id or None for new, title, description, active)."""
    existing = {item.id: item for item in db.session.execute(select(ChecklistItem)).scalars()}
    position = 0
    for item_id, title, description, active in rows:
        if not title.strip():
            continue
        position += 1
        item = existing.get(item_id) if item_id else None
        if item is None:
            item = ChecklistItem(
                position=position, title=title.strip(), description=description.strip()
            )
            db.session.add(item)
        item.position, item.title, item.description, item.active = (
            position,
            title.strip(),
            description.strip(),
            active,
        )
    audit.record(
        "mentoring.checklist_items", None, by=by, object_type="cp_checklist", items=position
    )


# --- Dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentoringStandard:
    open_cases: int
    visits_this_year: int
    overdue_actions: list[FollowUpAction]


@dataclass(frozen=True)
class MentoringYear:
    """Standard 9 over one year: cases opened, visits made, and the follow-up actions that
    fell due in the year, with those done late or not done yet."""

    applied: int
    visits: int
    actions_due: int
    actions_late: int


def mentoring_year(year: int, *, today: date | None = None) -> MentoringYear:
    today = today or local_today()
    first, last = date(year, 1, 1), date(year, 12, 31)
    start, end = local_year_bounds(year)
    applied = db.session.execute(
        select(func.count())
        .select_from(MentoringCase)
        .where(MentoringCase.created_at >= start, MentoringCase.created_at < end)
    ).scalar_one()
    visits = db.session.execute(
        select(func.count())
        .select_from(MentoringVisit)
        .where(MentoringVisit.visited_on >= first, MentoringVisit.visited_on <= last)
    ).scalar_one()
    due_in_year = (FollowUpAction.due_on >= first) & (FollowUpAction.due_on <= last)
    late = (FollowUpAction.done_on > FollowUpAction.due_on) | (
        FollowUpAction.done_on.is_(None) & (FollowUpAction.due_on < today)
    )
    actions_due, actions_late = db.session.execute(
        select(func.count(), func.count().filter(late)).where(due_in_year)
    ).one()
    return MentoringYear(applied, visits, actions_due, actions_late)


def mentoring_standard(year: int) -> MentoringStandard:
    open_cases = db.session.execute(
        select(func.count())
        .select_from(MentoringCase)
        .where(MentoringCase.state != CaseState.CLOSED)
    ).scalar_one()
    visits = db.session.execute(
        select(func.count())
        .select_from(MentoringVisit)
        .where(
            MentoringVisit.visited_on >= date(year, 1, 1),
            MentoringVisit.visited_on <= date(year, 12, 31),
        )
    ).scalar_one()
    overdue = list(
        db.session.execute(
            select(FollowUpAction)
            .where(FollowUpAction.done_on.is_(None), FollowUpAction.due_on < local_today())
            .order_by(FollowUpAction.due_on)
        ).scalars()
    )
    return MentoringStandard(open_cases, visits, overdue)
