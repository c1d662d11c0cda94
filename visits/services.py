"""On-site training requests: from the company's draft to a delivered private course.

Every state change goes through `_move`, which checks the allowed transitions, records
who acted, writes the audit entry and queues the mail to the company, naming the
responsible staff member (standard 11), in the same transaction.
"""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.core import audit, mail, outbox
from app.core.accounts import services as accounts
from app.core.accounts.models import Company, Role, User
from app.core.errors import DomainError
from app.core.extensions import db, lock_row
from app.core.links import external_url
from app.core.timeutil import local_today, to_local, utcnow
from app.core.unit_of_work import step
from app.core.vocabulary import Region
from courses import enrolment
from courses import services as courses
from courses.models import Audience, Course, CourseFormat, EnrollmentSource, SizeFocus
from visits.models import OPEN_FOR_SIGNUPS, OnsiteRequest, Quote, RequestState, Signup


class VisitError(DomainError):
    """A refused operation in visits, with a message for the person."""


@dataclass
class RequestDetails:
    title: str
    content: str
    topics: list[str]
    preferred_dates: list[str]
    address: str
    region: Region
    audience: Audience
    expected_headcount: int
    venue_capacity: int | None
    contact_name: str
    contact_phone: str
    contact_email: str
    notes: str = ""


# --- Reading -----------------------------------------------------------------------------


def threshold() -> int:
    return int(current_app.config["ONSITE_THRESHOLD"])


def confirmed_count(request_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Signup)
        .where(Signup.request_id == request_id, Signup.confirmed_at.is_not(None))
    ).scalar_one()


def signups(request_id: int) -> list[Signup]:
    return list(
        db.session.execute(
            select(Signup)
            .where(Signup.request_id == request_id)
            .order_by(Signup.created_at, Signup.id)
        ).scalars()
    )


def request_for(request_id: int, user: User) -> OnsiteRequest | None:
    """The request if this user may see it: staff, or a contact of the requesting company."""
    request = db.session.get(OnsiteRequest, request_id)
    if request is None:
        return None
    if user.role == Role.STAFF or (
        user.role == Role.COMPANY and user.company_id == request.company_id
    ):
        return request
    return None


def requests_of(company_id: int) -> list[OnsiteRequest]:
    return list(
        db.session.execute(
            select(OnsiteRequest)
            .where(OnsiteRequest.company_id == company_id)
            .order_by(OnsiteRequest.created_at.desc())
        ).scalars()
    )


def by_share_token(token: str) -> OnsiteRequest | None:
    return db.session.execute(
        select(OnsiteRequest).where(OnsiteRequest.share_token == token)
    ).scalar_one_or_none()


def quotes_of(request_id: int) -> list[Quote]:
    return list(
        db.session.execute(
            select(Quote).where(Quote.request_id == request_id).order_by(Quote.created_at.desc())
        ).scalars()
    )


# --- The company's side --------------------------------------------------------------------


def _check(details: RequestDetails) -> None:
    if not 2 <= len([d for d in details.preferred_dates if d.strip()]) <= 3:
        raise VisitError(_("Give two or three preferred dates or periods."), "preferred_dates")
    if details.expected_headcount < 1:
        raise VisitError(_("Enter the expected number of participants."), "expected_headcount")
    if details.venue_capacity is not None and details.venue_capacity < threshold():
        raise VisitError(
            _("The venue must seat at least %(n)d people.", n=threshold()), "venue_capacity"
        )


def create_request(details: RequestDetails, *, by: User) -> OnsiteRequest:
    if by.role != Role.COMPANY or by.company is None:
        raise VisitError(_("Only a company account can request on-site training."))
    if not by.company.is_approved:
        raise VisitError(
            _(
                "Your company is awaiting the institute's approval. You can request on-site "
                "training once it is approved."
            )
        )
    _check(details)
    request = OnsiteRequest(
        company_id=by.company_id,
        created_by_id=by.id,
        state=RequestState.DRAFT,
        share_token=secrets.token_urlsafe(16),
        threshold=threshold(),
    )
    _apply(request, details)
    db.session.add(request)
    db.session.flush()
    return request


def update_request(request: OnsiteRequest, details: RequestDetails, *, by: User) -> None:
    if request.state not in (RequestState.DRAFT, RequestState.COLLECTING):
        raise VisitError(_("A request can be changed only before it is submitted."))
    _check(details)
    _apply(request, details)


def _apply(request: OnsiteRequest, details: RequestDetails) -> None:
    for name, value in vars(details).items():
        setattr(request, name, value)
    request.preferred_dates = [d.strip() for d in details.preferred_dates if d.strip()]


def open_signups(request: OnsiteRequest, *, by: User) -> None:
    """Publish the share link: employees can sign up until the deadline."""
    request.signup_deadline = local_today() + timedelta(
        days=current_app.config["ONSITE_SIGNUP_DAYS"]
    )
    _move(request, RequestState.COLLECTING, by=by, notify=False)


def submit(request: OnsiteRequest, *, by: User) -> None:
    """Send the request to the institute; refused below the sign-up threshold."""
    count = confirmed_count(request.id)
    if count < request.threshold:
        raise VisitError(
            _(
                "%(count)d of %(needed)d people have signed up and confirmed. A request can be "
                "submitted once %(needed)d have.",
                count=count,
                needed=request.threshold,
            )
        )
    request.submitted_at = utcnow()
    _move(request, RequestState.SUBMITTED, by=by, notify=False, count=count)


def withdraw(request: OnsiteRequest, *, by: User) -> None:
    if request.state in (RequestState.SCHEDULED, RequestState.DELIVERED, RequestState.CLOSED):
        raise VisitError(
            _("A scheduled request cannot be withdrawn; please contact the institute.")
        )
    _move(request, RequestState.WITHDRAWN, by=by, notify=False)


def extend_deadline(request: OnsiteRequest, new_deadline: date, *, by: User) -> None:
    """The company may push the sign-up deadline back once."""
    if request.state != RequestState.COLLECTING:
        raise VisitError(_("Only a request collecting sign-ups has a deadline to extend."))
    if request.deadline_extended:
        raise VisitError(_("The deadline has already been extended once."))
    if request.signup_deadline and new_deadline <= request.signup_deadline:
        raise VisitError(_("Choose a date after the current deadline."), "deadline")
    if new_deadline > local_today() + timedelta(days=90):
        raise VisitError(_("Choose a date within 90 days."), "deadline")
    request.signup_deadline = new_deadline
    request.deadline_extended = True


def accept_quote(quote: Quote, *, by: User) -> None:
    if quote.accepted_at is not None:
        raise VisitError(_("This quote has already been accepted."))
    quote.accepted_at = utcnow()
    quote.accepted_by_id = by.id
    request = db.session.get(OnsiteRequest, quote.request_id)
    audit.record("onsite.quote_accept", quote, by=by, request_id=request.id, amount=quote.amount)


# --- Sign-ups ------------------------------------------------------------------------------


def sign_up(
    request: OnsiteRequest, *, name: str, email: str, department: str, user: User | None
) -> Signup:
    """An employee signs up with the share link; an unverified address is confirmed by mail."""
    email = accounts.normalise_email(email)
    if request.state not in OPEN_FOR_SIGNUPS:
        raise VisitError(_("Sign-ups for this training are closed."))
    if (
        request.signup_deadline
        and local_today() > request.signup_deadline
        and request.state == RequestState.COLLECTING
    ):
        raise VisitError(_("The sign-up deadline has passed."))
    lock_row(OnsiteRequest.threshold, request.id)  # serialise sign-ups of one request
    taken = db.session.execute(
        select(func.count()).select_from(Signup).where(Signup.request_id == request.id)
    ).scalar_one()
    if request.venue_capacity is not None and taken >= request.venue_capacity:
        raise VisitError(_("The venue is full: no more sign-ups can be taken."))
    verified = user is not None and user.email == email
    signup = Signup(
        request_id=request.id,
        name=name.strip(),
        email=email,
        department=department.strip(),
        user_id=user.id if verified else None,
        confirm_token=secrets.token_urlsafe(24),
        confirmed_at=utcnow() if verified else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(signup)
    except IntegrityError as error:
        raise VisitError(_("This e-mail address has already signed up."), "email") from error
    if not verified:
        outbox.queue(
            email,
            _("Please confirm your sign-up: %(title)s", title=request.title),
            "onsite_signup_confirm",
            context={
                "title": request.title,
                "company": request.company.name,
                "url": external_url("visits.confirm_signup", token=signup.confirm_token),
            },
            to_name=signup.name,
        )
    return signup


def confirm_signup(token: str) -> Signup:
    signup = db.session.execute(
        select(Signup).where(Signup.confirm_token == token)
    ).scalar_one_or_none()
    if signup is None:
        raise VisitError(_("This confirmation link is not valid."))
    if signup.confirmed_at is None:
        signup.confirmed_at = utcnow()
    return signup


# --- The institute's side -------------------------------------------------------------------


def accept(request: OnsiteRequest, *, by: User) -> None:
    _respond(request, by)
    _move(request, RequestState.ACCEPTED, by=by)


def decline(request: OnsiteRequest, reason: str, *, by: User) -> None:
    if not reason.strip():
        raise VisitError(_("Give the company a reason."), "reason")
    request.decline_reason = reason.strip()
    _respond(request, by)
    _move(request, RequestState.DECLINED, by=by, reason=request.decline_reason)


def _respond(request: OnsiteRequest, by: User) -> None:
    if request.first_response_at is None:
        request.first_response_at = utcnow()
    request.responsible_staff_id = by.id


@dataclass
class Schedule:
    starts_at: datetime
    ends_at: datetime
    hours: Decimal
    instructor_ids: list[int]
    title: str
    content: str


def schedule(request: OnsiteRequest, plan: Schedule, *, by: User) -> tuple[Course, list[str]]:
    """Turn the request into a private on-site course with every confirmed participant
    enrolled; participants without an account get one, with a link to set a password.

    Returns the course and the addresses that could not be enrolled (an address that
    belongs to a staff or company account, say), for staff to sort out by hand.
    """
    if not request.state.can_become(RequestState.SCHEDULED):
        raise VisitError(_("Only an accepted request can be scheduled."))
    if plan.starts_at <= utcnow():
        raise VisitError(_("Choose a date in the future."), "starts_at")
    participants = [s for s in signups(request.id) if s.confirmed_at is not None]
    company = db.session.get(Company, request.company_id)
    details = courses.CourseDetails(
        title=plan.title,
        summary=_("Custom on-site training for %(company)s", company=company.name),
        content=plan.content,
        audience=request.audience,
        size_focus=_size_focus(company),
        format=CourseFormat.ONSITE,
        region=request.region,
        venue=request.address,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        hours=plan.hours,
        capacity=max(len(participants), request.venue_capacity or 0, 1),
        instructor_ids=plan.instructor_ids,
    )
    course = courses.create_private_course(details, company_id=company.id, by=by)
    request.course_id = course.id
    request.responsible_staff_id = by.id
    skipped = []
    for signup in participants:
        learner = _participant_account(signup, company)
        try:
            with step():
                enrolment.enroll(
                    course,
                    learner,
                    by=by,
                    source=EnrollmentSource.COMPANY,
                    reason="on-site request",
                )
        except enrolment.EnrolmentError:
            skipped.append(signup.email)
    _move(
        request,
        RequestState.SCHEDULED,
        by=by,
        course_id=course.id,
        when=to_local(plan.starts_at).isoformat(),
        not_enrolled=skipped,
    )
    return course, skipped


def _size_focus(company: Company) -> SizeFocus:
    return SizeFocus(company.size.value)


def _participant_account(signup: Signup, company: Company) -> User:
    learner = (
        db.session.get(User, signup.user_id) if signup.user_id else accounts.find_user(signup.email)
    )
    if learner is None:
        learner = accounts.create_user(
            email=signup.email,
            name=signup.name,
            password=secrets.token_urlsafe(24),
            company=company,
            department=signup.department or None,
        )
        accounts.queue_password_mail(learner, invitation=True)
    return learner


def mark_delivered(request: OnsiteRequest, *, by: User) -> None:
    course = db.session.get(Course, request.course_id) if request.course_id else None
    if course is not None and utcnow() < course.ends_at:
        raise VisitError(_("The training has not taken place yet."))
    _move(request, RequestState.DELIVERED, by=by)


def close(request: OnsiteRequest, *, by: User) -> None:
    _move(request, RequestState.CLOSED, by=by)


def add_quote(request: OnsiteRequest, items: list[tuple[str, int]], *, by: User) -> Quote:
    items = [(label.strip(), amount) for label, amount in items if label.strip()]
    if not items or any(amount < 0 for _, amount in items):
        raise VisitError(_("Enter at least one item with an amount of 0 won or more."), "items")
    quote = Quote(
        request_id=request.id,
        items=[{"label": label, "amount": amount} for label, amount in items],
        amount=sum(amount for _, amount in items),
        created_by_id=by.id,
    )
    db.session.add(quote)
    db.session.flush()
    request.responsible_staff_id = by.id
    audit.record("onsite.quote", quote, by=by, request_id=request.id, amount=quote.amount)
    _mail_company(request, _("A quote is ready for your on-site training request"), by=by)
    return quote


# --- State changes and mail -----------------------------------------------------------------


def _move(
    request: OnsiteRequest, target: RequestState, *, by: User | None, notify: bool = True, **details
) -> None:
    if not request.state.can_become(target):
        raise VisitError(
            _(
                "A request that is %(state)s cannot become %(target)s.",
                state=request.state.label,
                target=target.label,
            )
        )
    before = request.state
    request.state = target
    audit.record(
        f"onsite.{target.value}",
        request,
        by=by,
        object_type="onsite_request",
        before=before.value,
        **details,
    )
    if notify:
        _mail_company(
            request, _("Your on-site training request is now: %(state)s", state=target.label), by=by
        )


def _mail_company(request: OnsiteRequest, subject: str, *, by: User | None) -> None:
    """Tell the company's contact; the staff member who acted answers for the mail."""
    outbox.queue(
        request.contact_email,
        subject,
        "onsite_request_status",
        context={
            "title": request.title,
            "state": request.state.label,
            "reason": request.decline_reason if request.state == RequestState.DECLINED else None,
            "url": external_url("visits.onsite_detail", request_id=request.id),
        },
        to_name=request.contact_name,
        responsible=mail.staff_contact(by),
    )


def lapse_due(
    *,
    today: date | None = None,
    unit: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> int:
    """Requests whose sign-up deadline passed below the threshold lapse; everyone is told.

    `unit` wraps each request (the CLI passes `unit_of_work`: one transaction each)."""
    today = today or local_today()
    due = (
        db.session.execute(
            select(OnsiteRequest).where(
                OnsiteRequest.state == RequestState.COLLECTING,
                OnsiteRequest.signup_deadline < today,
            )
        )
        .scalars()
        .all()
    )
    lapsed = 0
    for request in due:
        with unit():
            lapsed += _lapse(request)
    return lapsed


def _lapse(request: OnsiteRequest) -> bool:
    """Lapse one request and tell everyone; False when it has enough people or another run
    got it first."""
    if confirmed_count(request.id) >= request.threshold:
        return False  # enough people: the company only has to submit
    claimed = db.session.execute(
        update(OnsiteRequest)
        .where(OnsiteRequest.id == request.id, OnsiteRequest.state == RequestState.COLLECTING)
        .values(state=RequestState.LAPSED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False  # another run got it
    db.session.refresh(request)
    audit.record("onsite.lapsed", request, by=None, object_type="onsite_request")
    _mail_company(request, _("Your on-site training request has lapsed"), by=None)
    for signup in signups(request.id):
        outbox.queue(
            signup.email,
            _('The on-site training "%(title)s" will not take place', title=request.title),
            "onsite_lapsed",
            context={"title": request.title, "company": request.company.name},
            to_name=signup.name,
            dedupe_key=f"onsite:lapsed:{request.id}:{signup.id}",
        )
    return True
    return False


# --- Service standard 4 ---------------------------------------------------------------------


def working_days_between(start: datetime, end: datetime) -> float:
    """Working days (Monday to Friday) from start to end, in the local zone.

    Public holidays are not known to the system; they count as working days.
    """
    start, end = to_local(start), to_local(end)
    if end <= start:
        return 0.0
    total = 0.0
    cursor = start
    while cursor < end:
        next_midnight = datetime.combine(
            cursor.date() + timedelta(days=1), datetime.min.time(), tzinfo=cursor.tzinfo
        )
        step_end = min(end, next_midnight)
        if cursor.weekday() < 5:
            total += (step_end - cursor).total_seconds() / 86400
        cursor = step_end
    return total


def is_overdue(request: OnsiteRequest, *, now: datetime | None = None) -> bool:
    """Submitted and not answered within the SLA (default: 2 working days)."""
    if request.submitted_at is None or request.first_response_at is not None:
        return False
    sla = current_app.config["ONSITE_SLA_WORKING_DAYS"]
    return working_days_between(request.submitted_at, now or utcnow()) > sla


@dataclass(frozen=True)
class OnsiteStandard:
    received: int
    accepted: int
    delivered: int
    median_response_days: float | None
    overdue: list[OnsiteRequest]
    #: Of the year's requests, those answered, and those answered within the SLA.
    answered: int
    answered_in_time: int


def onsite_standard(year: int, *, now: datetime | None = None) -> OnsiteStandard:
    now = now or utcnow()
    submitted = (
        db.session.execute(select(OnsiteRequest).where(OnsiteRequest.submitted_at.is_not(None)))
        .scalars()
        .all()
    )
    of_year = [r for r in submitted if to_local(r.submitted_at).year == year]
    answered = [
        working_days_between(r.submitted_at, r.first_response_at)
        for r in of_year
        if r.first_response_at is not None
    ]
    sla = current_app.config["ONSITE_SLA_WORKING_DAYS"]
    reached = {
        RequestState.ACCEPTED,
        RequestState.SCHEDULED,
        RequestState.DELIVERED,
        RequestState.CLOSED,
    }
    return OnsiteStandard(
        received=len(of_year),
        accepted=sum(r.state in reached for r in of_year),
        delivered=sum(r.state in (RequestState.DELIVERED, RequestState.CLOSED) for r in of_year),
        median_response_days=statistics.median(answered) if answered else None,
        overdue=[r for r in submitted if is_overdue(r, now=now)],
        answered=len(answered),
        answered_in_time=sum(days <= sla for days in answered),
    )


def staff_queue() -> list[OnsiteRequest]:
    """Every request past the draft, the ones waiting for the institute first, oldest first."""
    waiting = {RequestState.SUBMITTED: 0, RequestState.ACCEPTED: 1, RequestState.SCHEDULED: 2}
    rows = (
        db.session.execute(select(OnsiteRequest).where(OnsiteRequest.state != RequestState.DRAFT))
        .scalars()
        .all()
    )
    return sorted(rows, key=lambda r: (waiting.get(r.state, 9), r.submitted_at or r.created_at))
