"""Every standard of the charter measured for one year, from the data, in one place.

The staff dashboard, the public report `/standards/<year>` and `flask standards report`
all read `compute(year)` (the public page reads the snapshot of it that staff published).
Each standard has a state: met, missed, due (not decidable yet: the year is still running
and nothing has failed) or not applicable (nothing happened that the standard is about),
a headline figure with its target, and the figures behind it. A standard whose promise is
cumulative over the year (two meetings, courses opened on demand, the half-yearly survey)
is due until the year ends; a standard broken by one event (an announcement late, an
inquiry answered late) is missed as soon as it happens.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.core import audit
from app.core.accounts.models import User
from app.core.audit import AuditEntry
from app.core.extensions import db, insert_ignoring_conflicts
from app.core.timeutil import local_year_bounds, to_local, utcnow
from app.standards.models import PublishedReport
from courses import announcements, demand, materials
from courses import services as courses
from courses.models import Audience, SizeFocus
from surveys import meetings
from surveys import services as surveys
from visits import mentoring
from visits import services as visits
from voice import services as voice

#: The years a report can be asked for (the calendar's bounds).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class State(enum.StrEnum):
    MET = "met"
    MISSED = "missed"
    DUE = "due"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    State.MET: _l("Met"),
    State.MISSED: _l("Missed"),
    State.DUE: _l("In progress"),
    State.NOT_APPLICABLE: _l("Not applicable"),
}


class Unit(enum.StrEnum):
    PERCENT = "percent"
    POINTS = "points"
    COUNT = "count"
    DATE = "date"
    HOURS = "hours"
    WORKING_DAYS = "working_days"
    TEXT = "text"  # no number: the label says it all


@dataclass(frozen=True)
class Measure:
    """One figure: what it is (a key of MEASURE_LABELS), its value and unit. A date is
    held as an ISO string, so that a report round-trips through JSON unchanged."""

    key: str
    value: float | int | str | None
    unit: Unit

    @property
    def label(self) -> str:
        return str(MEASURE_LABELS[self.key])

    @property
    def text(self) -> str:
        return format_measure(self)

    @property
    def ratio(self) -> float | None:
        """The value as a share of 100, for a bar; None when it is not a share."""
        if self.unit not in (Unit.PERCENT, Unit.POINTS) or self.value is None:
            return None
        return max(0.0, min(float(self.value), 100.0))


@dataclass(frozen=True)
class Standard:
    number: int
    state: State
    figure: Measure
    target: Measure
    details: tuple[Measure, ...] = ()

    @property
    def title(self) -> str:
        return str(TITLES[self.number])


@dataclass(frozen=True)
class StandardsReport:
    year: int
    computed_at: datetime
    standards: tuple[Standard, ...]

    def standard(self, number: int) -> Standard:
        return next(item for item in self.standards if item.number == number)

    def count(self, state: State) -> int:
        return sum(item.state == state for item in self.standards)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "computed_at": self.computed_at.isoformat(),
            "standards": [
                {
                    "number": item.number,
                    "state": item.state.value,
                    "figure": _measure_dict(item.figure),
                    "target": _measure_dict(item.target),
                    "details": [_measure_dict(detail) for detail in item.details],
                }
                for item in self.standards
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StandardsReport:
        return cls(
            year=data["year"],
            computed_at=datetime.fromisoformat(data["computed_at"]),
            standards=tuple(
                Standard(
                    number=item["number"],
                    state=State(item["state"]),
                    figure=_measure(item["figure"]),
                    target=_measure(item["target"]),
                    details=tuple(_measure(detail) for detail in item["details"]),
                )
                for item in data["standards"]
            ),
        )


def _measure_dict(measure: Measure) -> dict[str, Any]:
    return {"key": measure.key, "value": measure.value, "unit": measure.unit.value}


def _measure(data: dict[str, Any]) -> Measure:
    return Measure(data["key"], data["value"], Unit(data["unit"]))


TITLES = {
    1: _l("Annual calendar in January"),
    2: _l("Announce a week ahead"),
    3: _l("Courses by audience and company size"),
    4: _l("Custom on-site training"),
    5: _l("Practical courses on demand"),
    6: _l("Instructor meetings twice a year"),
    7: _l("Materials kept current"),
    8: _l("Surveys and satisfaction"),
    9: _l("CP mentoring"),
    10: _l("Privacy"),
    11: _l("Named staff"),
    12: _l("Customers' voice"),
}

MEASURE_LABELS = {
    # 1
    "published_on": _l("Calendar published on"),
    "deadline": _l("Published by"),
    # 2
    "announced_on_time": _l("Announced at least 7 days ahead"),
    "all_courses": _l("Every course"),
    "courses_judged": _l("Courses started or announced"),
    "announced_late": _l("Announced late"),
    "started_unannounced": _l("Started without announcement"),
    "overdue_unannounced": _l("Starting within a week, not announced"),
    # 3
    "groups_covered": _l("Audiences and company sizes with a course of their own"),
    "every_group": _l("Executives, practitioners, newcomers, SMEs and large enterprises"),
    "public_courses": _l("Public courses"),
    "specialised_courses": _l("Courses for one audience or company size"),
    "audience_executives": _l("Courses for executives"),
    "audience_practitioners": _l("Courses for practitioners"),
    "audience_newcomers": _l("Courses for newcomers"),
    "size_sme": _l("Courses for SMEs"),
    "size_large": _l("Courses for large enterprises"),
    # 4
    "answered_within_sla": _l("Requests answered within the target time"),
    "every_request": _l("Every request"),
    "requests_received": _l("Requests received"),
    "requests_accepted": _l("Accepted (10 or more sign-ups)"),
    "requests_delivered": _l("Delivered"),
    "median_first_response": _l("Median first response"),
    "sla": _l("Target time for a first response"),
    "requests_overdue": _l("Waiting past the target time"),
    # 5
    "opened_on_demand": _l("Courses opened on demand"),
    "at_least_one": _l("At least one course in the year"),
    "demand_signups": _l("Confirmed notify-me sign-ups"),
    "demand_topics": _l("Topics asked for"),
    "courses_from_demand": _l("Courses created from sign-ups"),
    "onsite_from_requests": _l("On-site courses from company requests"),
    "people_notified": _l("People notified of a matching course"),
    # 6
    "meetings_held": _l("Instructor meetings held"),
    "two_meetings": _l("Two meetings"),
    "meetings_scheduled": _l("Meetings scheduled"),
    # 7
    "materials_current": _l("Courses with materials updated within a year"),
    "courses_started": _l("Courses started"),
    "materials_stale": _l("Materials older than a year"),
    "materials_missing": _l("No materials"),
    # 8
    "satisfaction": _l("Overall course satisfaction"),
    "satisfaction_target": _l("80.0 points"),
    "survey_responses": _l("Post-course survey responses"),
    "response_rate": _l("Response rate"),
    "helpfulness_h1": _l("On-the-job helpfulness, first half"),
    "helpfulness_h2": _l("On-the-job helpfulness, second half"),
    "helpfulness_target": _l("Target for on-the-job helpfulness"),
    "courses_surveyed": _l("Ended courses with a post-course survey"),
    # 9
    "actions_on_time": _l("Follow-up actions done on time"),
    "every_action": _l("Every action"),
    "cases_applied": _l("Mentoring applications"),
    "mentoring_visits": _l("Mentoring visits"),
    "actions_due": _l("Follow-up actions due"),
    "actions_late": _l("Done late or not done"),
    "open_cases": _l("Open cases"),
    # 10
    "self_service": _l("Export and deletion on request, at once"),
    "self_service_target": _l("Every request, immediately"),
    "deletions": _l("Accounts deleted at the holder's request"),
    # 11
    "named_documents": _l("Announcements naming a staff member"),
    "every_document": _l("Every announcement and reply"),
    "announcements_published": _l("Announcements published"),
    "named_by_editor": _l("Naming the staff member who wrote them"),
    "named_by_contact": _l("Naming the education team's contact person"),
    "replies_signed": _l("Voice desk replies, signed by their author"),
    # 12
    "answered_in_time": _l("Answered within the target time"),
    "every_item": _l("Every inquiry, proposal and complaint"),
    "items_filed": _l("Inquiries, proposals and complaints filed"),
    "answered_late": _l("Answered late"),
    "open_overdue": _l("Unanswered past the target time"),
    "open_on_time": _l("Unanswered, not yet due"),
    "median_response": _l("Median time to the first reply"),
    "proposals": _l("Proposals"),
    "proposals_reported": _l("Proposals with the review result reported"),
    "complaints": _l("Complaints"),
    "complaints_reported": _l("Complaints with the measures taken reported"),
}


def format_measure(measure: Measure) -> str:
    value, unit = measure.value, measure.unit
    if unit == Unit.TEXT:
        return measure.label
    if value is None:
        return "–"
    if unit == Unit.DATE:
        return date.fromisoformat(str(value)).isoformat()
    if unit == Unit.PERCENT:
        return f"{format_decimal(value, '0.0')}%"
    if unit == Unit.POINTS:
        return _("%(n)s points", n=format_decimal(value, "0.0"))
    if unit == Unit.HOURS:
        return _("%(n)s hours", n=format_decimal(value, "0.0"))
    if unit == Unit.WORKING_DAYS:
        return _("%(n)s working days", n=format_decimal(value, "0.#"))
    return format_decimal(value, "#,##0")


# --- The twelve standards ------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The year measured and the moment of measuring."""

    year: int
    now: datetime

    @property
    def over(self) -> bool:
        return self.now >= local_year_bounds(self.year)[1]

    @property
    def today(self) -> date:
        return to_local(self.now).date()

    def unfinished(self) -> State:
        """The state of a cumulative promise not kept yet: due while the year runs."""
        return State.MISSED if self.over else State.DUE


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def _count(key: str, value: int) -> Measure:
    return Measure(key, value, Unit.COUNT)


def calendar_published(period: Period) -> Standard:
    result = courses.calendar_standard(period.year, now=period.now)
    published = to_local(result.published_at).date().isoformat() if result.published_at else None
    state = {"met": State.MET, "missed": State.MISSED, "due": State.DUE}[result.state]
    return Standard(
        1,
        state,
        Measure("published_on", published, Unit.DATE),
        Measure("deadline", to_local(result.deadline).date().isoformat(), Unit.DATE),
    )


def announced_a_week_ahead(period: Period) -> Standard:
    states = [row.state for row in announcements.announcement_standard(period.year, now=period.now)]
    on_time, late, missed = states.count("met"), states.count("late"), states.count("missed")
    overdue, scheduled = states.count("overdue"), states.count("scheduled")
    judged = on_time + late + missed
    if late or missed or overdue:
        state = State.MISSED
    elif judged:
        state = State.MET
    else:
        state = State.DUE if scheduled else State.NOT_APPLICABLE
    return Standard(
        2,
        state,
        Measure("announced_on_time", _percent(on_time, judged), Unit.PERCENT),
        Measure("all_courses", 100, Unit.PERCENT),
        (
            _count("courses_judged", judged),
            _count("announced_late", late),
            _count("started_unannounced", missed),
            _count("overdue_unannounced", overdue),
        ),
    )


#: The groups standard 3 promises courses of their own (mid-size companies are served by
#: the courses for every size).
AUDIENCE_GROUPS = (Audience.EXECUTIVES, Audience.PRACTITIONERS, Audience.NEWCOMERS)
SIZE_GROUPS = (SizeFocus.SME, SizeFocus.LARGE)


def courses_by_audience_and_size(period: Period) -> Standard:
    coverage = courses.audience_coverage(period.year)
    counts = [coverage.by_audience[group] for group in AUDIENCE_GROUPS]
    counts += [coverage.by_size[group] for group in SIZE_GROUPS]
    covered = sum(count > 0 for count in counts)
    if coverage.courses == 0:
        state = State.NOT_APPLICABLE
    elif covered == len(counts):
        state = State.MET
    else:
        state = period.unfinished()
    return Standard(
        3,
        state,
        _count("groups_covered", covered),
        _count("every_group", len(counts)),
        (
            _count("public_courses", coverage.courses),
            _count("specialised_courses", coverage.specialised),
            *(_count(f"audience_{g.value}", coverage.by_audience[g]) for g in AUDIENCE_GROUPS),
            *(_count(f"size_{g.value}", coverage.by_size[g]) for g in SIZE_GROUPS),
        ),
    )


def onsite_training(period: Period) -> Standard:
    result = visits.onsite_standard(period.year, now=period.now)
    overdue = sum(to_local(r.submitted_at).year == period.year for r in result.overdue)
    if result.received == 0:
        state = State.NOT_APPLICABLE
    elif overdue or result.answered_in_time < result.answered:
        state = State.MISSED
    else:  # answered in time so far, or waiting within the target time
        state = State.MET if result.answered else State.DUE
    return Standard(
        4,
        state,
        Measure(
            "answered_within_sla",
            _percent(result.answered_in_time, result.answered + overdue),
            Unit.PERCENT,
        ),
        Measure("every_request", 100, Unit.PERCENT),
        (
            _count("requests_received", result.received),
            _count("requests_accepted", result.accepted),
            _count("requests_delivered", result.delivered),
            Measure("median_first_response", result.median_response_days, Unit.WORKING_DAYS),
            Measure("sla", current_app.config["ONSITE_SLA_WORKING_DAYS"], Unit.WORKING_DAYS),
            _count("requests_overdue", overdue),
        ),
    )


def courses_on_demand(period: Period) -> Standard:
    interest = demand.demand_standard(period.year)
    onsite = visits.onsite_standard(period.year, now=period.now)
    opened = interest.courses_opened_on_demand + onsite.accepted
    if opened:
        state = State.MET
    elif interest.interests == 0 and onsite.received == 0:
        state = State.NOT_APPLICABLE
    else:
        state = period.unfinished()
    return Standard(
        5,
        state,
        _count("opened_on_demand", opened),
        _count("at_least_one", 1),
        (
            _count("demand_signups", interest.interests),
            _count("demand_topics", interest.topics_with_demand),
            _count("courses_from_demand", interest.courses_opened_on_demand),
            _count("onsite_from_requests", onsite.accepted),
            _count("people_notified", interest.people_notified),
        ),
    )


def instructor_meetings(period: Period) -> Standard:
    result = meetings.meeting_standard(period.year, today=period.today)
    return Standard(
        6,
        State.MET if result.met else period.unfinished(),
        _count("meetings_held", result.held),
        _count("two_meetings", meetings.MEETINGS_PER_YEAR),
        (_count("meetings_scheduled", result.scheduled),),
    )


def materials_current(period: Period) -> Standard:
    result = materials.materials_standard(period.year, now=period.now)
    if result.courses == 0:
        state = State.NOT_APPLICABLE
    elif result.stale or result.missing:
        state = State.MISSED
    else:
        state = State.MET
    return Standard(
        7,
        state,
        Measure("materials_current", result.current_rate, Unit.PERCENT),
        Measure("all_courses", 100, Unit.PERCENT),
        (
            _count("courses_started", result.courses),
            _count("materials_stale", result.stale),
            _count("materials_missing", result.missing),
        ),
    )


def surveys_and_satisfaction(period: Period) -> Standard:
    kpis = surveys.kpis(period.year)
    coverage = surveys.survey_coverage(period.year, now=period.now)
    year, halves = kpis["year"], (kpis["H1"].helpfulness, kpis["H2"].helpfulness)
    figures = [
        (year.satisfaction, surveys.SATISFACTION_TARGET),
        *((share, surveys.HELPFULNESS_TARGET) for share in halves),
    ]
    below = any(value is not None and value < target for value, target in figures)
    unmeasured = any(value is None for value, _ in figures)
    if coverage.ended == 0 and all(value is None for value, _ in figures):
        state = State.NOT_APPLICABLE
    elif below or coverage.surveyed < coverage.ended:
        state = State.MISSED
    elif unmeasured:
        state = period.unfinished()
    else:
        state = State.MET
    return Standard(
        8,
        state,
        Measure("satisfaction", year.satisfaction, Unit.POINTS),
        Measure("satisfaction_target", surveys.SATISFACTION_TARGET, Unit.POINTS),
        (
            _count("survey_responses", year.responses),
            Measure("response_rate", year.response_rate, Unit.PERCENT),
            Measure("helpfulness_h1", halves[0], Unit.PERCENT),
            Measure("helpfulness_h2", halves[1], Unit.PERCENT),
            Measure("helpfulness_target", surveys.HELPFULNESS_TARGET, Unit.PERCENT),
            Measure("courses_surveyed", _percent(coverage.surveyed, coverage.ended), Unit.PERCENT),
        ),
    )


def cp_mentoring(period: Period) -> Standard:
    result = mentoring.mentoring_year(period.year, today=period.today)
    open_cases = mentoring.mentoring_standard(period.year).open_cases
    if result.applied == 0 and result.visits == 0 and result.actions_due == 0:
        state = State.NOT_APPLICABLE
    else:
        state = State.MISSED if result.actions_late else State.MET
    return Standard(
        9,
        state,
        Measure(
            "actions_on_time",
            _percent(result.actions_due - result.actions_late, result.actions_due),
            Unit.PERCENT,
        ),
        Measure("every_action", 100, Unit.PERCENT),
        (
            _count("cases_applied", result.applied),
            _count("mentoring_visits", result.visits),
            _count("actions_due", result.actions_due),
            _count("actions_late", result.actions_late),
            _count("open_cases", open_cases),
        ),
    )


def privacy(period: Period) -> Standard:
    """Export and deletion are self-service pages that take effect at once, so every request
    is met when it is made; the figure is how many people used deletion."""
    start, end = local_year_bounds(period.year)
    deletions = db.session.execute(
        select(func.count()).where(
            AuditEntry.action == "user.delete_personal_data",
            AuditEntry.at >= start,
            AuditEntry.at < end,
        )
    ).scalar_one()
    return Standard(
        10,
        State.MET,
        Measure("self_service", None, Unit.TEXT),
        Measure("self_service_target", None, Unit.TEXT),
        (_count("deletions", deletions),),
    )


def named_staff(period: Period, voice_result: voice.VoiceStandard) -> Standard:
    named = announcements.named_announcements(period.year)
    contact_named = bool(current_app.config["MAIL_CONTACT_NAME"].strip())
    by_contact = named.published - named.by_editor if contact_named else 0
    replies = voice_result.answered_in_time + voice_result.answered_late
    if named.published == 0 and replies == 0:
        state = State.NOT_APPLICABLE
    else:
        state = State.MET if named.by_editor + by_contact == named.published else State.MISSED
    return Standard(
        11,
        state,
        Measure(
            "named_documents",
            _percent(named.by_editor + by_contact, named.published),
            Unit.PERCENT,
        ),
        Measure("every_document", 100, Unit.PERCENT),
        (
            _count("announcements_published", named.published),
            _count("named_by_editor", named.by_editor),
            _count("named_by_contact", by_contact),
            _count("replies_signed", replies),
        ),
    )


def customers_voice(period: Period, result: voice.VoiceStandard) -> Standard:
    unreported = (result.proposals - result.proposals_reported) + (
        result.complaints - result.complaints_reported
    )
    if result.inquiries == 0:
        state = State.NOT_APPLICABLE
    elif result.answered_late or result.open_overdue:
        state = State.MISSED
    elif result.open_on_time or unreported:
        state = period.unfinished()
    else:
        state = State.MET
    return Standard(
        12,
        state,
        Measure("answered_in_time", result.in_time_rate, Unit.PERCENT),
        Measure("every_item", 100, Unit.PERCENT),
        (
            _count("items_filed", result.inquiries),
            _count("answered_late", result.answered_late),
            _count("open_overdue", result.open_overdue),
            _count("open_on_time", result.open_on_time),
            Measure("median_response", result.median_response_hours, Unit.HOURS),
            _count("proposals", result.proposals),
            _count("proposals_reported", result.proposals_reported),
            _count("complaints", result.complaints),
            _count("complaints_reported", result.complaints_reported),
        ),
    )


MEASURED_ALONE: tuple[Callable[[Period], Standard], ...] = (
    calendar_published,
    announced_a_week_ahead,
    courses_by_audience_and_size,
    onsite_training,
    courses_on_demand,
    instructor_meetings,
    materials_current,
    surveys_and_satisfaction,
    cp_mentoring,
    privacy,
)


def compute(year: int, *, now: datetime | None = None) -> StandardsReport:
    """The twelve standards of `year` as the data stands at `now`."""
    period = Period(year, now or utcnow())
    voice_result = voice.voice_standard(year, now=period.now)
    standards = [measure(period) for measure in MEASURED_ALONE]
    standards += [named_staff(period, voice_result), customers_voice(period, voice_result)]
    return StandardsReport(year, period.now, tuple(standards))


# --- Publication ---------------------------------------------------------------------


def published_report(year: int) -> PublishedReport | None:
    return db.session.get(PublishedReport, year)


def published_years() -> list[PublishedReport]:
    """The published reports, newest year first (one row a year: bounded by the calendar)."""
    return list(
        db.session.execute(select(PublishedReport).order_by(PublishedReport.year.desc())).scalars()
    )


def publish(year: int, *, by: User, now: datetime | None = None) -> PublishedReport:
    """Publish the year's figures as they stand now (again: replace the snapshot)."""
    report = compute(year, now=now)
    values = {
        "snapshot": report.to_dict(),
        "published_at": report.computed_at,
        "published_by_id": by.id,
    }
    # Two staff publishing at once: the database decides who inserts; the other updates.
    table = PublishedReport.__table__
    db.session.execute(insert_ignoring_conflicts(table, on=["year"]).values(year=year, **values))
    db.session.execute(update(PublishedReport).where(PublishedReport.year == year).values(values))
    published = db.session.get(PublishedReport, year, populate_existing=True)
    assert published is not None
    audit.record(
        "standards.publish",
        None,
        by=by,
        object_type="standards_report",
        object_id=str(year),
        met=report.count(State.MET),
        missed=report.count(State.MISSED),
    )
    return published


def snapshot_of(published: PublishedReport) -> StandardsReport:
    return StandardsReport.from_dict(published.snapshot)
