"""The voice desk's pages: filing and following (public), the queue and the item (staff)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.core.access import public, staff_only
from app.core.accounts.models import User
from app.core.confirmation import confirmation_page
from app.core.extensions import db, limiter
from app.core.forms import ConfirmForm, flash_form_errors, show_domain_error
from app.core.mail import staff_contact
from app.core.timeutil import utcnow
from courses import services as courses
from voice import services
from voice.forms import (
    AssignForm,
    FilingForm,
    FollowUpForm,
    QueueFilterForm,
    ReplyForm,
    ResolveForm,
)
from voice.models import ClockState, VoiceItem, VoiceKind, VoiceState

bp = Blueprint("voice", __name__, url_prefix="/voice")

#: The follow link's secret: `secrets.token_urlsafe(24)` is 32 characters.
TOKEN = "<string(length=32):token>"


def _signed_in_user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


# --- Public ------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"])
def new():
    user = _signed_in_user()
    form = FilingForm()
    form.set_courses(services.course_choices())
    form.email_optional = user is not None
    if not form.is_submitted():
        if request.args.get("kind") in {kind.value for kind in VoiceKind}:
            form.kind.data = request.args["kind"]
        if user is not None:
            form.name.data, form.email.data, form.phone.data = user.name, user.email, user.phone
    if form.validate_on_submit():
        try:
            item = services.file_item(services.Filing(**form.filing_data()), user=user)
        except services.VoiceError as error:
            show_domain_error(form, error)
        else:
            flash(
                _(
                    "Thank you: we have received it and sent the link to this page to "
                    "%(email)s. Keep the link to follow the answer.",
                    email=item.email,
                ),
                "success",
            )
            return redirect(url_for("voice.follow", token=item.token))
    return render_template("voice/new.html", form=form)


@bp.route(f"/{TOKEN}", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def follow(token: str):
    """The filer's page, reached only with the secret link: no index of items exists."""
    item = services.by_token(token)
    if item is None:
        abort(404)
    form = FollowUpForm()
    if form.validate_on_submit():
        try:
            services.add_follow_up(item, form.body.data, user=_signed_in_user())
        except services.VoiceError as error:
            show_domain_error(form, error)
        else:
            flash(_("Your message has been added. We will answer it here and by mail."), "success")
            return redirect(url_for("voice.follow", token=item.token))
    return render_template(
        "voice/follow.html", form=form, **_item_context(item), contact_of=staff_contact
    )


def _item_context(item: VoiceItem) -> dict:
    return {
        "item": item,
        "thread": services.thread(item),
        "clock": services.clock(item),
        "course": courses.get_course(item.course_id, with_instructors=False)
        if item.course_id
        else None,
        "resolver": staff_contact(item.resolved_by) if item.resolved_by else None,
        "States": VoiceState,
        "Kinds": VoiceKind,
    }


# --- Staff ---------------------------------------------------------------------------------


@bp.route("/queue")
@staff_only
def queue():
    form = QueueFilterForm(formdata=request.args)
    filters = services.QueueFilter()
    if form.validate():
        filters = services.QueueFilter(
            kind=VoiceKind(form.kind.data) if form.kind.data else None,
            state=VoiceState(form.state.data) if form.state.data else None,
            clock=ClockState(form.clock.data) if form.clock.data else None,
        )
    now = utcnow()
    page = services.queue_page(filters, number=request.args.get("page", 1, type=int), now=now)
    return render_template(
        "voice/queue.html",
        form=form,
        page=page,
        clocks={item.id: services.clock(item, now=now) for item in page.items},
        counts=services.open_counts(now=now),
    )


def _item_or_404(item_id: int) -> VoiceItem:
    item = services.get_item(item_id)
    if item is None:
        abort(404)
    return item


def _back(item: VoiceItem):
    return redirect(url_for("voice.item", item_id=item.id))


def _assign_form() -> AssignForm:
    form = AssignForm()
    form.assignee_id.choices = [
        SelectChoice("", _l("Choose a staff member")),
        *(SelectChoice(str(u.id), u.name) for u in services.staff_members()),
    ]
    return form


@bp.route("/items/<int:item_id>")
@staff_only
def item(item_id: int):
    item = _item_or_404(item_id)
    assign_form = _assign_form()
    if item.assignee_id:
        assign_form.assignee_id.data = str(item.assignee_id)
    return render_template(
        "voice/item.html",
        **_item_context(item),
        contact_of=staff_contact,
        assign_form=assign_form,
        reply_form=ReplyForm(),
        resolve_form=ResolveForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/items/<int:item_id>/take", methods=["POST"])
@staff_only
def take(item_id: int):
    item = _item_or_404(item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    me = current_user._get_current_object()
    try:
        services.assign(item, me, by=me)
    except services.VoiceError as error:
        flash(error.message, "error")
    else:
        flash(_("You are now in charge of this item."), "success")
    return _back(item)


@bp.route("/items/<int:item_id>/assign", methods=["POST"])
@staff_only
def assign(item_id: int):
    item = _item_or_404(item_id)
    form = _assign_form()
    if form.validate_on_submit():
        assignee = db.session.get(User, int(form.assignee_id.data))
        try:
            services.assign(item, assignee, by=current_user._get_current_object())
        except services.VoiceError as error:
            flash(error.message, "error")
        else:
            flash(_("%(name)s is now in charge of this item.", name=assignee.name), "success")
    else:
        flash_form_errors(form)
    return _back(item)


@bp.route("/items/<int:item_id>/reply", methods=["POST"])
@staff_only
def reply(item_id: int):
    item = _item_or_404(item_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.reply(
                item,
                form.body.data,
                interim=form.interim.data,
                by=current_user._get_current_object(),
            )
        except services.VoiceError as error:
            flash(error.message, "error")
        else:
            flash(_("The reply has been sent to the filer."), "success")
    else:
        flash_form_errors(form)
    return _back(item)


@bp.route("/items/<int:item_id>/resolve", methods=["POST"])
@staff_only
def resolve(item_id: int):
    item = _item_or_404(item_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            services.resolve(
                item,
                form.resolution.data,
                outcome=form.outcome_value(),
                by=current_user._get_current_object(),
            )
        except services.VoiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Recorded and reported to the filer; the item is closed."), "success")
    else:
        flash_form_errors(form)
    return _back(item)


@bp.route("/items/<int:item_id>/close", methods=["GET"])
@staff_only
def confirm_close(item_id: int):
    item = _item_or_404(item_id)
    consequences = [_("The item leaves the open work; its record and figures stay.")]
    if item.kind != VoiceKind.INQUIRY and item.resolved_at is None:
        consequences.append(
            _("No decision or corrective action has been reported: it counts as not reported.")
        )
    return confirmation_page(
        title=_("Close the item %(subject)s?", subject=item.subject),
        consequences=consequences,
        action=url_for("voice.close", item_id=item.id),
        confirm=_("Close"),
        back=url_for("voice.item", item_id=item.id),
    )


@bp.route("/items/<int:item_id>/close", methods=["POST"])
@staff_only
def close(item_id: int):
    item = _item_or_404(item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.close(item, by=current_user._get_current_object())
    except services.VoiceError as error:
        flash(error.message, "error")
    else:
        flash(_("The item is closed."), "success")
    return _back(item)
