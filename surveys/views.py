"""Answering a survey, the satisfaction reports and the survey template editor."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.core.access import public, roles, staff_only
from app.core.accounts.models import Role, User
from app.core.downloads import csv_response, pdf_response, xlsx_response
from app.core.extensions import db, limiter
from app.core.pdf import render_pdf
from app.core.timeutil import local_today, to_local
from courses import services as courses
from surveys import charts, meetings, services
from surveys.forms import MeetingForm, TemplateForm, answer_form_class, answers_from
from surveys.models import InstructorMeeting, Metric, QuestionType, SurveyKind

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.context_processor
def _release_batch() -> dict:
    """k, which the survey pages mention wherever they say answers come out in batches."""
    return {"release_batch": services.release_batch()}


def _report_context() -> dict:
    return {
        "charts": charts,
        "target_points": services.SATISFACTION_TARGET,
        "target_share": services.HELPFULNESS_TARGET,
        "Metric": Metric,
        "QuestionType": QuestionType,
    }


def _pdf(template: str, filename: str, **context) -> Response:
    pdf = render_pdf(
        template, **context, **_report_context(), generated_on=local_today().isoformat()
    )
    return pdf_response(pdf, filename)


# --- Answering ---------------------------------------------------------------------------


@bp.route("/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def answer(token: str):
    invitation = services.invitation_by_token(token)
    if invitation is None:
        return render_template(
            "surveys/message.html", message=_("This survey link is not valid.")
        ), 404
    if invitation.submitted:
        return render_template(
            "surveys/message.html", message=_("This survey has already been answered. Thank you!")
        ), 409
    template = services.template_for(invitation)
    course = courses.get_course(invitation.course_id) if invitation.course_id else None
    form = answer_form_class(template)()
    if form.validate_on_submit():
        try:
            services.submit(invitation, answers_from(form, template))
        except services.AlreadyAnswered as error:
            return render_template("surveys/message.html", message=error.message), 409
        except services.SurveyError as error:
            flash(error.message, "error")
        else:
            return render_template(
                "surveys/thanks.html",
                course=course,
                certificate_next=invitation.enrollment_id is not None,
            )
    return render_template(
        "surveys/answer.html", form=form, template=template, invitation=invitation, course=course
    )


# --- Reports -----------------------------------------------------------------------------


def _year_or_404(year: int) -> int:
    if not courses.valid_year(year):
        abort(404)
    return year


@bp.route("/reports/")
@staff_only
def reports():
    return redirect(url_for("surveys.year_report", year=local_today().year))


def _year_context(year: int) -> dict:
    start, end = services.year_bounds(year)
    by_half = services.satisfaction_by_half(year)
    halves = {
        part: {
            "satisfaction": by_half[part],
            "helpfulness": services.half_yearly_result(f"{year}{part}", max_comments=15),
        }
        for part in ("H1", "H2")
    }
    return {
        "year": year,
        "result": services.period_result(start, end, max_comments=15),
        "halves": halves,
        "rows": services.course_scores(start, end),
    }


@bp.route("/reports/<int:year>")
@staff_only
def year_report(year: int):
    return render_template(
        "surveys/report_year.html", **_year_context(_year_or_404(year)), **_report_context()
    )


@bp.route("/reports/<int:year>.pdf")
@staff_only
def year_report_pdf(year: int):
    return _pdf(
        "surveys/report_year_pdf.html",
        f"survey-report-{year}.pdf",
        **_year_context(_year_or_404(year)),
    )


@bp.route("/reports/<int:year>/answers.<any(csv, xlsx):fmt>")
@staff_only
def raw_answers(year: int, fmt: str):
    rows = services.raw_answers(_year_or_404(year))
    header = [
        _("Response"),
        _("Survey"),
        _("Course ID"),
        _("Course"),
        _("Start date"),
        _("Half-year"),
        _("No."),
        _("Question"),
        _("Value"),
        _("Text"),
        _("Released below the batch size"),
    ]
    table = [
        [
            response_id,
            SurveyKind(kind).label,
            course_id,
            title or "",
            to_local(starts_at).date() if starts_at else None,
            half or "",
            position,
            text,
            value,
            answer_text or "",
            _("yes") if small_batch else "",
        ]
        for (
            response_id,
            kind,
            course_id,
            title,
            starts_at,
            half,
            position,
            text,
            value,
            answer_text,
            small_batch,
        ) in rows
    ]
    filename = f"survey-answers-{year}.{fmt}"
    if fmt == "csv":
        return csv_response(header, table, filename)
    return xlsx_response(
        header,
        table,
        filename,
        sheet_title=_("Answers"),
        title=_("Survey report %(year)d", year=year),
    )


def _course_for_report(course_id: int):
    course = courses.get_course(course_id)
    if course is None:
        abort(404)
    allowed = current_user.role == Role.STAFF or any(
        u.id == current_user.id for u in course.instructors
    )
    if not allowed:
        abort(403)
    return course


def _half_context(year: int, part: str) -> dict:
    half = f"{_year_or_404(year)}{part}"
    return {
        "half": half,
        "year": year,
        "result": services.half_yearly_result(half, max_comments=30),
    }


@bp.route("/reports/<int:year>/<any(H1, H2):part>")
@staff_only
def half_report(year: int, part: str):
    return render_template(
        "surveys/report_half.html", **_half_context(year, part), **_report_context()
    )


@bp.route("/reports/<int:year>/<any(H1, H2):part>.pdf")
@staff_only
def half_report_pdf(year: int, part: str):
    return _pdf(
        "surveys/report_half_pdf.html", f"survey-half-{year}{part}.pdf", **_half_context(year, part)
    )


@bp.route("/reports/course/<int:course_id>")
@roles(Role.INSTRUCTOR, Role.STAFF)
def course_report(course_id: int):
    course = _course_for_report(course_id)
    return render_template(
        "surveys/report_course.html",
        course=course,
        result=services.course_result(course.id),
        **_report_context(),
    )


@bp.route("/reports/course/<int:course_id>.pdf")
@roles(Role.INSTRUCTOR, Role.STAFF)
def course_report_pdf(course_id: int):
    course = _course_for_report(course_id)
    return _pdf(
        "surveys/report_course_pdf.html",
        f"survey-course-{course.id}.pdf",
        course=course,
        result=services.course_result(course.id),
    )


@bp.route("/reports/course/<int:course_id>/pending")
@staff_only
def pending(course_id: int):
    course = courses.get_course(course_id) or abort(404)
    return render_template(
        "surveys/pending.html",
        course=course,
        names=services.non_respondents(course.id),
    )


def _instructor_context(user_id: int) -> dict:
    """An instructor's results, for themselves and for staff only."""
    if current_user.role != Role.STAFF and current_user.id != user_id:
        abort(403)
    instructor = db.session.get(User, user_id)
    if instructor is None:
        abort(404)
    year = request.args.get("year", type=int) or local_today().year
    start, end = services.year_bounds(_year_or_404(year))
    return {
        "instructor": instructor,
        "year": year,
        "result": services.instructor_result(user_id, max_comments=15),
        "rows": services.course_scores(start, end, instructor_id=user_id),
    }


@bp.route("/reports/instructor/<int:user_id>")
@roles(Role.INSTRUCTOR, Role.STAFF)
def instructor_report(user_id: int):
    return render_template(
        "surveys/report_instructor.html", **_instructor_context(user_id), **_report_context()
    )


@bp.route("/reports/instructor/<int:user_id>.pdf")
@roles(Role.INSTRUCTOR, Role.STAFF)
def instructor_report_pdf(user_id: int):
    context = _instructor_context(user_id)
    return _pdf(
        "surveys/report_instructor_pdf.html",
        f"survey-instructor-{user_id}-{context['year']}.pdf",
        **context,
    )


# --- Templates ---------------------------------------------------------------------------


@bp.route("/templates/")
@staff_only
def templates():
    return render_template(
        "surveys/templates.html",
        templates=[services.current_template(kind) for kind in SurveyKind],
    )


@bp.route("/templates/<any(post_course, half_yearly):kind>", methods=["GET", "POST"])
@staff_only
def edit_template(kind: str):
    kind = SurveyKind(kind)
    template = services.current_template(kind)
    form = TemplateForm(obj=None if request.method == "POST" else _template_data(template))
    metric = Metric.OVERALL if kind == SurveyKind.POST_COURSE else Metric.HELPFULNESS
    for entry in form.questions:
        entry.form.metric.choices = [("", "–"), (metric.value, _("Service-standard question"))]
    if form.validate_on_submit():
        try:
            saved = services.save_template(
                kind,
                title=form.title.data,
                intro=form.intro.data or "",
                questions=_question_specs(form),
                by=current_user._get_current_object(),
            )
        except services.SurveyError as error:
            flash(error.message, "error")
        else:
            flash(_("The survey has been saved (version %(n)d).", n=saved.version), "success")
            return redirect(url_for("surveys.templates"))
    return render_template(
        "surveys/template_edit.html",
        form=form,
        template=template,
        has_responses=services.has_responses(template),
    )


def _template_data(template):
    from types import SimpleNamespace

    rows = [
        SimpleNamespace(
            text=q.text,
            type=q.type.value,
            required=q.required,
            options=" | ".join(q.options),
            metric=q.metric.value if q.metric else "",
        )
        for q in template.questions
    ]
    rows.append(SimpleNamespace(text="", type="likert", required=False, options="", metric=""))
    return SimpleNamespace(title=template.title, intro=template.intro, questions=rows)


def _question_specs(form: TemplateForm) -> list[services.QuestionSpec]:
    specs = []
    for entry in form.questions:
        data = entry.form
        if not data.text.data:
            continue  # an empty row removes the question
        specs.append(
            services.QuestionSpec(
                text=data.text.data,
                type=QuestionType(data.type.data),
                required=bool(data.required.data),
                options=[o.strip() for o in (data.options.data or "").split("|") if o.strip()],
                metric=Metric(data.metric.data) if data.metric.data else None,
            )
        )
    return specs


# --- Instructor meetings -------------------------------------------------------------------


def _meeting_or_404(meeting_id: int):
    meeting = db.session.get(InstructorMeeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def _meeting_form(meeting=None) -> MeetingForm:
    form = MeetingForm(obj=meeting)
    people = db.session.execute(
        db.select(User).where(User.role.in_([Role.INSTRUCTOR, Role.STAFF])).order_by(User.name)
    ).scalars()
    form.attendee_ids.choices = [(user.id, user.name) for user in people]
    return form


@bp.route("/meetings/")
@roles(Role.INSTRUCTOR, Role.STAFF)
def meetings_list():
    return render_template(
        "surveys/meetings.html",
        meetings=meetings.all_meetings(),
        standard=meetings.meeting_standard(local_today().year),
        target=meetings.MEETINGS_PER_YEAR,
    )


@bp.route("/meetings/new", methods=["GET", "POST"])
@staff_only
def meeting_new():
    return _meeting_edit(None)


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@staff_only
def meeting_edit(meeting_id: int):
    return _meeting_edit(_meeting_or_404(meeting_id))


def _meeting_edit(meeting):
    form = _meeting_form(meeting)
    if form.validate_on_submit():
        record = meetings.MeetingRecord(
            held_on=form.held_on.data,
            title=form.title.data,
            attendee_ids=list(form.attendee_ids.data or []),
            other_attendees=form.other_attendees.data or "",
            agenda=form.agenda.data or "",
            minutes=form.minutes.data or "",
            decisions=form.decisions.data or "",
        )
        try:
            saved = meetings.save(record, by=current_user._get_current_object(), meeting=meeting)
        except meetings.MeetingError as error:
            flash(error.message, "error")
        else:
            flash(_("The meeting has been saved."), "success")
            return redirect(url_for("surveys.meeting_detail", meeting_id=saved.id))
    return render_template("surveys/meeting_form.html", form=form, meeting=meeting)


@bp.route("/meetings/<int:meeting_id>")
@roles(Role.INSTRUCTOR, Role.STAFF)
def meeting_detail(meeting_id: int):
    """Staff see every instructor's pack; an instructor only their own."""
    meeting = _meeting_or_404(meeting_id)
    if current_user.role == Role.STAFF:
        packs = meetings.packs(meeting)
    else:
        packs = [meetings.pack_for(meeting, current_user._get_current_object())]
    start, end = meetings.period(meeting)
    attendees = (
        db.session.execute(db.select(User).where(User.id.in_(meeting.attendee_ids or [0])))
        .scalars()
        .all()
    )
    return render_template(
        "surveys/meeting.html",
        meeting=meeting,
        packs=packs,
        start=start,
        end=end,
        attendees=attendees,
        **_report_context(),
    )


@bp.route("/meetings/<int:meeting_id>/pack.pdf")
@roles(Role.INSTRUCTOR, Role.STAFF)
def meeting_pack_pdf(meeting_id: int):
    meeting = _meeting_or_404(meeting_id)
    if current_user.role == Role.STAFF:
        packs = meetings.packs(meeting)
    else:
        packs = [meetings.pack_for(meeting, current_user._get_current_object())]
    start, end = meetings.period(meeting)
    return _pdf(
        "surveys/meeting_pack_pdf.html",
        f"meeting-{meeting.id}-pack.pdf",
        meeting=meeting,
        packs=packs,
        start=start,
        end=end,
    )
