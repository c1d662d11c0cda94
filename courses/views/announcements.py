"""Announcements, their Atom feed and the newsletter."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core import caching
from app.core.access import public, staff_only
from app.core.accounts.models import User
from app.core.extensions import csrf, db
from app.core.formatting import document_text
from app.core.forms import ConfirmForm
from app.core.links import external_url
from app.core.mail import staff_contact
from courses import announcements, services
from courses.forms import AnnouncementForm, SubscribeForm
from courses.models import Announcement, CourseStatus
from courses.views.blueprint import bp
from courses.views.common import acting_user, is_staff


@bp.route("/announcements/")
@public
def announcement_list():
    return render_template(
        "announcements/list.html", items=announcements.published_announcements(limit=100)
    )


@bp.route("/announcements/<int:announcement_id>")
@public
def announcement(announcement_id: int):
    item = db.session.get(Announcement, announcement_id)
    if item is None or (item.published_at is None and not is_staff()):
        abort(404)
    course = services.get_course(item.course_id)
    editor = db.session.get(User, item.updated_by_id) if item.updated_by_id else None
    return render_template(
        "announcements/detail.html",
        item=item,
        course=course,
        responsible=staff_contact(editor),  # standard 11: the staff member who answers for it
    )


EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)


@bp.route("/announcements.atom")
@public
def announcement_feed():
    feed = FeedGenerator()
    name = current_app.config["INSTITUTE_NAME"]
    feed.id(external_url("courses.announcement_list"))
    feed.title(_("%(institute)s course announcements", institute=name))
    feed.author({"name": name})
    feed.link(href=external_url("courses.announcement_list"), rel="alternate")
    feed.link(href=external_url("courses.announcement_feed"), rel="self")
    feed.language("ko")
    items = announcements.published_announcements(limit=50)
    changed = caching.latest(max(item.updated_at, item.published_at) for item in items)
    # An empty feed keeps one date, so that its ETag stays the same until something changes.
    feed.updated(changed or EMPTY_FEED_UPDATED)
    for item in reversed(items):  # feedgen prepends: oldest first gives newest on top
        entry = feed.add_entry()
        link = external_url("courses.announcement", announcement_id=item.id)
        entry.id(link)
        entry.title(document_text(item.title))
        entry.link(href=link)
        entry.published(item.published_at)
        entry.updated(item.updated_at if item.updated_at > item.published_at else item.published_at)
        entry.content(document_text(item.body), type="text")
    response = Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")
    return caching.conditional(
        response, last_modified=changed, private=current_user.is_authenticated
    )


@bp.route("/courses/<int:course_id>/announcement", methods=["GET", "POST"])
@staff_only
def edit_announcement(course_id: int):
    course = services.get_course(course_id)
    if course is None:
        abort(404)
    # Drafted from the course on first sight; a GET shows the draft and keeps nothing,
    # the first save stores it.
    item = announcements.ensure_announcement(course)
    form = AnnouncementForm(obj=item)
    if form.validate_on_submit():
        try:
            announcements.edit_announcement(
                item, title=form.title.data, body=form.body.data, by=acting_user()
            )
        except announcements.AnnouncementError as error:
            flash(error.message, "error")
        else:
            flash(_("The announcement has been saved."), "success")
            return redirect(url_for("courses.edit_announcement", course_id=course.id))
    return render_template(
        "announcements/edit.html",
        course=course,
        item=item,
        form=form,
        publish_form=ConfirmForm(),
        due_on=announcements.announcement_date(course),
    )


@bp.route("/courses/<int:course_id>/announcement/publish", methods=["POST"])
@staff_only
def publish_announcement(course_id: int):
    course = services.get_course(course_id)
    if course is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if course.private:
        flash(_("A company's own on-site course is not announced publicly."), "error")
    elif course.status != CourseStatus.PUBLISHED:
        flash(_("Publish the course before announcing it."), "error")
    elif announcements.announce(course):
        flash(_("The announcement is published and the newsletter is queued."), "success")
    else:
        flash(_("This announcement was already published."), "info")
    return redirect(url_for("courses.edit_announcement", course_id=course.id))


# --- Newsletter --------------------------------------------------------------------------


@bp.route("/newsletter/", methods=["GET", "POST"])
@public
def newsletter():
    form = SubscribeForm()
    if request.method == "GET" and current_user.is_authenticated:
        form.email.data = current_user.email
    if form.validate_on_submit():
        announcements.subscribe(form.email.data)
        return render_template("announcements/subscribe_sent.html", email=form.email.data)
    return render_template("announcements/subscribe.html", form=form)


@bp.route("/newsletter/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_subscription(token: str):
    """The double opt-in link. Opening it asks; the button confirms. A POST, so that a mail
    scanner following the link subscribes nobody, and so that the request commits."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            subscriber = announcements.confirm(token)
        except announcements.AnnouncementError as error:
            return render_template("announcements/message.html", message=error.message), 404
        return render_template(
            "announcements/message.html",
            message=_(
                "Thank you: %(email)s will receive our course announcements.",
                email=subscriber.email,
            ),
        )
    subscriber = announcements.find_subscriber(token)
    if subscriber is None or subscriber.unsubscribed_at is not None:
        # What the button would answer (see `announcements.confirm`), said before it is pressed.
        return render_template(
            "announcements/message.html", message=_("This confirmation link is not valid.")
        ), 404
    return render_template("courses/confirm_subscription.html", subscriber=subscriber, form=form)


@bp.route("/newsletter/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # the secret token is the proof; mail clients POST here (RFC 8058 one-click)
def unsubscribe(token: str):
    if request.method == "POST":
        try:
            announcements.unsubscribe(token)
        except announcements.AnnouncementError as error:
            return render_template("announcements/message.html", message=error.message), 404
        return render_template(
            "announcements/message.html",
            message=_("You have been unsubscribed from the newsletter."),
        )
    if announcements.find_subscriber(token) is None:
        return render_template(
            "announcements/message.html", message=_("This unsubscribe link is not valid.")
        ), 404
    return render_template("announcements/unsubscribe.html", token=token)
