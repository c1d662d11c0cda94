"""Practical courses on demand (standard 5): "notify me" sign-ups and the staff demand page."""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, staff_only
from app.core.extensions import csrf, limiter
from app.core.forms import ConfirmForm, show_domain_error
from app.core.vocabulary import Region
from courses import demand, services
from courses.forms import CourseForm, DemandForm
from courses.models import Audience, Course, CourseStatus, Topic
from courses.views.blueprint import bp
from courses.views.common import acting_user, back_to_course
from courses.views.management import _instructor_choices


def _submitted_email() -> str:
    """The limit key of a sign-up: the address it mails, so one address is not flooded."""
    return "demand:" + request.form.get("email", "").strip().lower()[:254]


def _source_course() -> Course | None:
    """The full or closed course the visitor came from (`?course=<id>`), if it is public."""
    course_id = request.args.get("course", type=int)
    if course_id is None or not 0 < course_id < 2**31:
        return None
    course = services.get_course(course_id, with_instructors=False)
    if course is None or course.private or course.status == CourseStatus.DRAFT:
        return None
    return course


def _enum_arg(name: str, kind):
    value = request.args.get(name, "")
    return kind(value) if value in {member.value for member in kind} else None


@bp.route("/courses/notify", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("10 per day", methods=["POST"], key_func=_submitted_email)
def notify():
    course = _source_course()
    form = DemandForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            form.email.data = current_user.email
        topic = course.topic if course is not None else _enum_arg("topic", Topic)
        region = course.region if course is not None else _enum_arg("region", Region)
        audience = course.audience if course is not None else _enum_arg("audience", Audience)
        form.topic.data = topic.value if topic else ""
        form.region.data = region.value if region else ""
        form.audience.data = audience.value if audience and audience != Audience.ALL else ""
    if form.validate_on_submit():
        demand.register_interest(
            form.email.data,
            **form.wish(),
            course=course,
            user=acting_user() if current_user.is_authenticated else None,
        )
        return render_template("courses/demand_sent.html", email=form.email.data)
    status = 400 if request.method == "POST" else 200
    return render_template("courses/demand_new.html", form=form, course=course), status


@bp.route("/courses/notify/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_interest(token: str):
    """The double opt-in link. Opening it asks; the button confirms (a POST: a mail
    scanner following the link signs nobody up)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            interest = demand.confirm_interest(token)
        except demand.DemandError as error:
            return render_template("announcements/message.html", message=error.message), 404
        return render_template("courses/demand_confirm.html", interest=interest, form=None)
    interest = demand.find_interest(token)
    if interest is None or interest.withdrawn_at is not None:
        return render_template(
            "announcements/message.html", message=_("This confirmation link is not valid.")
        ), 404
    return render_template("courses/demand_confirm.html", interest=interest, form=form)


@bp.route("/courses/notify/withdraw/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # the secret token is the proof; mail clients POST here (RFC 8058 one-click)
def withdraw_interest(token: str):
    if request.method == "POST":
        try:
            demand.withdraw_interest(token)
        except demand.DemandError as error:
            return render_template("announcements/message.html", message=error.message), 404
        return render_template(
            "announcements/message.html",
            message=_("Done: we will not send this address any more notices of new courses."),
        )
    if demand.find_interest(token) is None:
        return render_template(
            "announcements/message.html", message=_("This link is not valid.")
        ), 404
    return render_template("courses/demand_withdraw.html", token=token)


# --- Staff ------------------------------------------------------------------------------


@bp.route("/courses/demand")
@staff_only
def demand_overview():
    rows = demand.demand_rows()
    return render_template(
        "courses/demand_overview.html",
        rows=rows,
        topics=demand.topic_demand(rows),
        notes=demand.demand_notes(),
        opened=demand.opened_on_demand(),
        row_limit=demand.SUMMARY_LIMIT,
    )


@bp.route("/courses/demand/new", methods=["GET", "POST"])
@staff_only
def create_from_demand():
    """The course form, started from a demand row; the course is marked opened on demand."""
    topic = _enum_arg("topic", Topic)
    if topic is None:
        abort(404)
    prefill = demand.course_prefill(
        topic, _enum_arg("region", Region), _enum_arg("audience", Audience)
    )
    form = CourseForm(data=prefill if request.method == "GET" else None)
    _instructor_choices(form)
    if form.validate_on_submit():
        try:
            course = services.create_course(
                services.CourseDetails(**form.details_data()), by=acting_user()
            )
        except services.CourseError as error:
            show_domain_error(form, error)
        else:
            demand.mark_opened_on_demand(course, by=acting_user())
            flash(_("The course has been created as a draft, opened on demand."), "success")
            return back_to_course(course)
    return render_template(
        "courses/form.html",
        form=form,
        course=None,
        demand_note=_(
            "A course opened on demand: it counts for the service standard, and everyone "
            "who asked for its topic gets a mail when it is announced."
        ),
    )
