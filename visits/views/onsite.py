"""On-site training requests: the company's pages, the staff queue, the sign-up link."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.core.access import public, roles, staff_only
from app.core.accounts.models import Role
from app.core.confirmation import confirmation_page
from app.core.extensions import db, limiter
from app.core.forms import ConfirmForm, flash_form_errors, show_domain_error
from courses import services as courses
from visits import services
from visits.forms import (
    DeclineForm,
    ExtendForm,
    OnsiteRequestForm,
    QuoteForm,
    ScheduleForm,
    SignupForm,
)
from visits.models import OPEN_FOR_SIGNUPS, OnsiteRequest, Quote, RequestState, Signup
from visits.views.blueprint import bp


def _user():
    return current_user._get_current_object()


def _request_or_404(request_id: int) -> OnsiteRequest:
    """404 (not 403) for another company's request: its existence is not revealed."""
    request = services.request_for(request_id, current_user)
    if request is None:
        abort(404)
    return request


def _own_request_or_404(request_id: int) -> OnsiteRequest:
    request = _request_or_404(request_id)
    if current_user.role != Role.COMPANY:
        abort(403)
    return request


def _back(request: OnsiteRequest):
    return redirect(url_for("visits.onsite_detail", request_id=request.id))


def _request_form(obj=None) -> OnsiteRequestForm:
    form = OnsiteRequestForm(obj=obj)
    form.topics.choices = [SelectChoice(title, title) for title in courses.catalog_subjects()]
    return form


# --- Company -------------------------------------------------------------------------------


@bp.route("/onsite/")
@roles(Role.COMPANY, Role.STAFF)
def onsite_list():
    if current_user.role == Role.STAFF:
        queue = services.staff_queue()
        return render_template(
            "visits/queue.html",
            queue=queue,
            overdue={r.id for r in queue if services.is_overdue(r)},
            counts={r.id: services.confirmed_count(r.id) for r in queue},
        )
    requests = services.requests_of(current_user.company_id)
    return render_template(
        "visits/list.html",
        requests=requests,
        counts={r.id: services.confirmed_count(r.id) for r in requests},
    )


@bp.route("/onsite/new", methods=["GET", "POST"])
@roles(Role.COMPANY)
def onsite_new():
    form = _request_form()
    if not form.is_submitted():
        form.contact_name.data = current_user.name
        form.contact_email.data = current_user.email
        form.contact_phone.data = current_user.phone
        if current_user.company:
            form.region.data = current_user.company.region.value
    if form.validate_on_submit():
        try:
            request = services.create_request(
                services.RequestDetails(**form.details_data()), by=_user()
            )
        except services.VisitError as error:
            show_domain_error(form, error)
        else:
            flash(
                _("Your request is saved as a draft. Open sign-ups when you are ready."), "success"
            )
            return _back(request)
    return render_template("visits/form.html", form=form, request=None)


@bp.route("/onsite/<int:request_id>/edit", methods=["GET", "POST"])
@roles(Role.COMPANY)
def onsite_edit(request_id: int):
    request = _own_request_or_404(request_id)
    form = _request_form(obj=None)
    if not form.is_submitted():
        for name in (
            "title",
            "content",
            "address",
            "expected_headcount",
            "venue_capacity",
            "contact_name",
            "contact_phone",
            "contact_email",
            "notes",
        ):
            form[name].data = getattr(request, name)
        form.topics.data = request.topics
        form.region.data, form.audience.data = request.region.value, request.audience.value
        for number, value in enumerate(request.preferred_dates[:3], start=1):
            form[f"date_{number}"].data = value
    if form.validate_on_submit():
        try:
            services.update_request(
                request, services.RequestDetails(**form.details_data()), by=_user()
            )
        except services.VisitError as error:
            show_domain_error(form, error)
        else:
            flash(_("Saved."), "success")
            return _back(request)
    return render_template("visits/form.html", form=form, request=request)


@bp.route("/onsite/<int:request_id>")
@roles(Role.COMPANY, Role.STAFF)
def onsite_detail(request_id: int):
    request = _request_or_404(request_id)
    schedule_form = ScheduleForm()
    schedule_form.instructor_ids.choices = [
        SelectChoice(str(u.id), u.name) for u in courses.instructors()
    ]
    if not schedule_form.is_submitted():
        schedule_form.title.data = request.title
        schedule_form.content.data = request.content
    return render_template(
        "visits/detail.html",
        request=request,
        signups=services.signups(request.id),
        confirmed=services.confirmed_count(request.id),
        quotes=services.quotes_of(request.id),
        course=courses.get_course(request.course_id) if request.course_id else None,
        overdue=services.is_overdue(request),
        confirm_form=ConfirmForm(),
        decline_form=DeclineForm(),
        extend_form=ExtendForm(),
        schedule_form=schedule_form,
        quote_form=QuoteForm(),
        States=RequestState,
    )


def _perform(request: OnsiteRequest, operation, message):
    """Run a one-button state change and say how it went."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operation(request, by=_user())
    except services.VisitError as error:
        flash(error.message, "error")
    else:
        flash(str(message), "success")
    return _back(request)


COMPANY_ACTIONS = {
    "open": (services.open_signups, _l("Sign-ups are open: share the link with your colleagues.")),
    "submit": (services.submit, _l("Your request has been submitted to the institute.")),
    "withdraw": (services.withdraw, _l("Your request has been withdrawn.")),
}


@bp.route("/onsite/<int:request_id>/<any(open, submit, withdraw):action>", methods=["POST"])
@roles(Role.COMPANY)
def onsite_company_action(request_id: int, action: str):
    return _perform(_own_request_or_404(request_id), *COMPANY_ACTIONS[action])


@bp.route("/onsite/<int:request_id>/withdraw", methods=["GET"])
@roles(Role.COMPANY)
def onsite_confirm_withdraw(request_id: int):
    onsite = _own_request_or_404(request_id)
    return confirmation_page(
        title=_("Withdraw the request %(title)s?", title=onsite.title),
        consequences=[
            _("The sign-up link stops working and the institute stops preparing the visit."),
            _("To train later, make a new request."),
        ],
        action=url_for("visits.onsite_company_action", request_id=onsite.id, action="withdraw"),
        confirm=_("Withdraw"),
        back=url_for("visits.onsite_detail", request_id=onsite.id),
    )


@bp.route("/onsite/<int:request_id>/extend", methods=["POST"])
@roles(Role.COMPANY)
def onsite_extend(request_id: int):
    request = _own_request_or_404(request_id)
    form = ExtendForm()
    if form.validate_on_submit():
        try:
            services.extend_deadline(request, form.deadline.data, by=_user())
        except services.VisitError as error:
            flash(error.message, "error")
        else:
            flash(
                _("The sign-up deadline is now %(date)s.", date=form.deadline.data.isoformat()),
                "success",
            )
    else:
        flash(_("Choose a valid date."), "error")
    return _back(request)


@bp.route("/onsite/<int:request_id>/quotes/<int:quote_id>/accept", methods=["POST"])
@roles(Role.COMPANY)
def onsite_accept_quote(request_id: int, quote_id: int):
    request = _own_request_or_404(request_id)
    quote = db.session.get(Quote, quote_id)
    if quote is None or quote.request_id != request.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.accept_quote(quote, by=_user())
    except services.VisitError as error:
        flash(error.message, "error")
    else:
        flash(_("You have accepted the quote."), "success")
    return _back(request)


# --- Staff ---------------------------------------------------------------------------------

STAFF_ACTIONS = {
    "accept": (services.accept, _l("The request is accepted; the company has been told.")),
    "deliver": (services.mark_delivered, _l("Marked as delivered.")),
    "close": (services.close, _l("The request is closed.")),
}


@bp.route("/onsite/<int:request_id>/<any(accept, deliver, close):action>", methods=["POST"])
@staff_only
def onsite_staff_action(request_id: int, action: str):
    return _perform(_request_or_404(request_id), *STAFF_ACTIONS[action])


@bp.route("/onsite/<int:request_id>/close", methods=["GET"])
@staff_only
def onsite_confirm_close(request_id: int):
    onsite = _request_or_404(request_id)
    return confirmation_page(
        title=_("Close the request %(title)s?", title=onsite.title),
        consequences=[_("The request leaves the open work; its record stays.")],
        action=url_for("visits.onsite_staff_action", request_id=onsite.id, action="close"),
        confirm=_("Close"),
        back=url_for("visits.onsite_detail", request_id=onsite.id),
    )


@bp.route("/onsite/<int:request_id>/decline", methods=["POST"])
@staff_only
def onsite_decline(request_id: int):
    request = _request_or_404(request_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            services.decline(request, form.reason.data, by=_user())
        except services.VisitError as error:
            flash(error.message, "error")
        else:
            flash(_("The request is declined; the company has been told why."), "success")
    else:
        flash(_("Give the company a reason."), "error")
    return _back(request)


@bp.route("/onsite/<int:request_id>/schedule", methods=["POST"])
@staff_only
def onsite_schedule(request_id: int):
    request = _request_or_404(request_id)
    form = ScheduleForm()
    form.instructor_ids.choices = [SelectChoice(str(u.id), u.name) for u in courses.instructors()]
    if form.validate_on_submit():
        try:
            course, skipped = services.schedule(
                request, services.Schedule(**form.plan_data()), by=_user()
            )
        except (services.VisitError, courses.CourseError) as error:
            flash(error.message, "error")
        else:
            flash(_("Scheduled: the participants are enrolled in the on-site course."), "success")
            if skipped:
                flash(
                    _("Not enrolled (please check): %(emails)s", emails=", ".join(skipped)), "error"
                )
            return redirect(url_for("courses.roster", course_id=course.id))
    else:
        flash_form_errors(form)
    return _back(request)


@bp.route("/onsite/<int:request_id>/quote", methods=["POST"])
@staff_only
def onsite_quote(request_id: int):
    request = _request_or_404(request_id)
    form = QuoteForm()
    if form.validate_on_submit():
        try:
            services.add_quote(request, form.items(), by=_user())
        except services.VisitError as error:
            flash(error.message, "error")
        else:
            flash(_("The quote has been sent to the company."), "success")
    else:
        flash_form_errors(form)
    return _back(request)


# --- Participants (public) -----------------------------------------------------------------


@bp.route("/onsite/join/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def onsite_join(token: str):
    request = services.by_share_token(token)
    if request is None:
        return render_template(
            "visits/message.html", message=_("This sign-up link is not valid.")
        ), 404
    form = SignupForm()
    if not form.is_submitted() and current_user.is_authenticated:
        form.name.data, form.email.data = current_user.name, current_user.email
        form.department.data = current_user.department
    if form.validate_on_submit():
        user = current_user._get_current_object() if current_user.is_authenticated else None
        try:
            signup = services.sign_up(
                request,
                name=form.name.data,
                email=form.email.data,
                department=form.department.data or "",
                user=user,
            )
        except services.VisitError as error:
            show_domain_error(form, error)
        else:
            return render_template("visits/joined.html", request=request, signup=signup)
    return render_template(
        "visits/join.html",
        request=request,
        form=form,
        confirmed=services.confirmed_count(request.id),
        open=request.state in OPEN_FOR_SIGNUPS,
    )


@bp.route("/onsite/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_signup(token: str):
    """The link in the sign-up mail. Opening it asks; the button confirms. A POST, so that
    a mail scanner following the link confirms nobody, and so that the request commits."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            signup = services.confirm_signup(token)
        except services.VisitError as error:
            return render_template("visits/message.html", message=error.message), 404
        return render_template(
            "visits/message.html",
            message=_("Thank you, %(name)s: your sign-up is confirmed.", name=signup.name),
        )
    signup = db.session.execute(
        select(Signup).where(Signup.confirm_token == token)
    ).scalar_one_or_none()
    if signup is None:
        return render_template(
            "visits/message.html", message=_("This confirmation link is not valid.")
        ), 404
    return render_template(
        "visits/confirm_signup.html",
        signup=signup,
        request=db.session.get(OnsiteRequest, signup.request_id),
        form=form,
    )
