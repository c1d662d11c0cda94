"""Sign-in, sign-out, registration and password change."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.accounts.forms import (
    AcceptAccountForm,
    CompanyRegistrationForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegistrationForm,
    SetPasswordForm,
)
from app.core.access import public, signed_in
from app.core.accounts import consent, services
from app.core.accounts.forms import consented
from app.core.accounts.models import ConsentSource, Role, TokenPurpose
from app.core.downloads import content_disposition
from app.core.extensions import limiter
from app.core.forms import ConfirmForm
from app.core.links import same_site_path
from app.core.security import start_session
from app.core.timeutil import utcnow
from app.core.vocabulary import CompanySize, Region

bp = Blueprint("accounts", __name__, url_prefix="/auth")


def _home_for(user) -> str:
    if user.role == Role.STAFF:
        return url_for("staff.dashboard")
    if user.role == Role.INSTRUCTOR:
        return url_for("courses.my_teaching")
    return url_for("me.home")


def _submitted_email() -> str:
    """The limit key of a sign-in, registration or reset: the address it is about, so that
    one account cannot be tried from many addresses faster than from one."""
    return "account:" + services.normalise_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    return response.status_code != 302


def _login_locked(limit) -> object:
    """The per-address limit answers exactly as a locked account does, whether or not the
    address has an account."""
    form = LoginForm()
    form.validate()  # so that the page shows what was typed, as after any failed sign-in
    form.password.errors = [services.locked_message()]
    return render_template("accounts/login.html", form=form), 429


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit(
    "5 per 15 minutes",
    methods=["POST"],
    key_func=_submitted_email,
    deduct_when=_failed,
    on_breach=_login_locked,
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountLocked as error:
            form.password.errors.append(error.message)
            return render_template("accounts/login.html", form=form), 429
        if user is None:
            form.password.errors.append(_("The e-mail or password is not correct."))
        else:
            start_session(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(same_site_path(request.args.get("next")) or _home_for(user))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    services.end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("3 per day", methods=["POST"], key_func=_submitted_email)
def register():
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = services.register(**_person_fields(form), next_url=_next_page())
        except (services.AccountError, consent.ConsentError) as error:
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            _switch_on_optional_items(user)
            return _check_your_mail(form.email.data)
    return render_template(
        "accounts/register.html",
        form=form,
        company=False,
        next=_next_page(),
        consent_items=consent.CONSENT_ITEMS,
    )


@bp.route("/register/company", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("3 per day", methods=["POST"], key_func=_submitted_email)
def register_company():
    form = CompanyRegistrationForm()
    if form.validate_on_submit():
        try:
            user = services.register_company(
                company_name=form.company_name.data,
                business_number=form.business_number.data,
                region=Region(form.region.data),
                size=CompanySize(form.size.data),
                **_person_fields(form),
            )
        except (services.AccountError, consent.ConsentError) as error:
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            _switch_on_optional_items(user)
            return _check_your_mail(form.email.data)
    return render_template(
        "accounts/register.html",
        form=form,
        company=True,
        next=None,
        consent_items=consent.CONSENT_ITEMS,
    )


def _person_fields(form) -> dict:
    return {
        "email": form.email.data,
        "name": form.name.data,
        "password": form.password.data,
        "phone": form.phone.data,
        "department": form.department.data,
        "consents": consented(form),
    }


def _switch_on_optional_items(user) -> None:
    """What an optional consent given at registration starts: the newsletter's double
    opt-in (its own confirmation mail). Nothing when the address had an account already."""
    from courses import announcements

    if user is not None and consent.has_consent(user, consent.NEWSLETTER):
        announcements.subscribe(user.email)


def _next_page() -> str | None:
    return same_site_path(request.values.get("next"))


def _check_your_mail(email: str):
    """The same answer whether the address was new or had an account already."""
    return render_template("accounts/check_mail.html", email=services.normalise_email(email))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_email(token: str):
    """The link in the confirmation mail opens a page with a button: a mail scanner that
    follows links confirms nothing."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            user = services.confirm_email_with_token(token)
        except services.AccountError:
            return render_template("accounts/link_invalid.html"), 410
        start_session(user)
        flash(_("Your e-mail address is confirmed. Welcome, %(name)s.", name=user.name), "success")
        return redirect(_next_page() or _home_for(user))
    if not services.email_token_is_live(token):
        return render_template("accounts/link_invalid.html"), 410
    return render_template("accounts/confirm_email.html", form=form)


@bp.route("/confirm/resend", methods=["POST"])
@signed_in
@limiter.limit("3 per hour", methods=["POST"])
def resend_confirmation():
    user = current_user._get_current_object()
    if ConfirmForm().validate_on_submit() and not user.email_verified:
        services.queue_confirmation_mail(user)
        flash(_("We have sent the confirmation link again to %(email)s.", email=user.email), "info")
    return redirect(same_site_path(request.form.get("next")) or url_for("me.home"))


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except services.AccountError as error:
            getattr(form, error.field or "new_password").errors.append(error.message)
        else:
            # Other devices are signed out by the rotated token; keep this one signed in.
            start_session(user)
            flash(
                _("Your password has been changed. Other devices have been signed out."), "success"
            )
            return redirect(url_for("main.home"))
    return render_template("accounts/password.html", form=form)


# --- The learner's own page --------------------------------------------------------------

me_bp = Blueprint("me", __name__, url_prefix="/me")


@me_bp.route("/")
@signed_in
def home():
    from certificates import services as certificates
    from courses import announcements, enrolment, feeds, materials
    from courses.forms import CheckInForm
    from surveys import services as surveys

    user = current_user._get_current_object()
    if user.role in (Role.STAFF, Role.INSTRUCTOR):
        return redirect(_home_for(user))
    company_rows = (
        enrolment.company_enrolments(user.company_id)
        if user.role == Role.COMPANY and user.company_id
        else []
    )
    rows = enrolment.enrolments_of(user) if user.role == Role.LEARNER else []
    mine = certificates.certificates_of(user) if user.role == Role.LEARNER else []
    feed = feeds.feed_token_of(user) if feeds.may_have_feed(user) else None
    now = utcnow()
    return render_template(
        "accounts/me.html",
        upcoming=[e for e in rows if e.course.ends_at >= now and e.status.is_active],
        past=[e for e in rows if e.course.ends_at < now or not e.status.is_active],
        positions={e.id: enrolment.waiting_position(e) for e in rows},
        company_rows=company_rows,
        subscribed=announcements.is_subscribed(user.email),
        certificates=mine,
        surveys_due=surveys.surveys_due(user) if user.role == Role.LEARNER else [],
        certified={certificate.enrollment_id for certificate in mine},
        now=now,
        confirm_form=ConfirmForm(),
        checkin_form=CheckInForm(),
        calendar_feed_links=feeds.feed_links(feed) if feed else None,
        handouts=materials.handouts_of(user) if user.role == Role.LEARNER else {},
        consents=consent.consents_of(user),
        consent_items=consent.CONSENT_ITEMS,
    )


#: The optional items, as the only values the consent routes' URL takes.
_OPTIONAL = "any(" + ", ".join(consent.OPTIONAL_ITEMS) + ")"


@me_bp.route(f"/consents/<{_OPTIONAL}:key>/grant", methods=["POST"])
@signed_in
def grant_consent(key: str):
    """Give an optional consent again (or for the first time) from /me."""
    from courses import announcements

    user = current_user._get_current_object()
    if ConfirmForm().validate_on_submit():
        consent.grant(user, key, source=ConsentSource.MY_PAGE)
        if key == consent.NEWSLETTER and not announcements.is_subscribed(user.email):
            announcements.subscribe(user.email)
            flash(
                _(
                    "Thank you. Please open the link we have sent to %(email)s to start "
                    "the newsletter.",
                    email=user.email,
                ),
                "success",
            )
        else:
            flash(_("Your consent has been recorded."), "success")
    return redirect(url_for("me.home") + "#consents")


@me_bp.route(f"/consents/<{_OPTIONAL}:key>/withdraw", methods=["POST"])
@signed_in
def withdraw_consent(key: str):
    """Withdraw an optional consent; withdrawing the newsletter's also unsubscribes."""
    from courses import announcements

    user = current_user._get_current_object()
    if ConfirmForm().validate_on_submit():
        consent.withdraw(user, key)
        if key == consent.NEWSLETTER:
            announcements.unsubscribe_address(user.email)
        flash(_("Your consent has been withdrawn."), "info")
    return redirect(url_for("me.home") + "#consents")


@me_bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        services.update_profile(
            user, name=form.name.data, phone=form.phone.data, department=form.department.data
        )
        flash(_("Your details have been saved."), "success")
        return redirect(url_for("me.home"))
    return render_template("accounts/profile.html", form=form)


# --- Password links ----------------------------------------------------------------------


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    user = services.user_for_password_token(token)
    if user is None:
        return render_template("accounts/link_invalid.html"), 410
    # An account made for the person (not a reset): they agree here, as at registration.
    invited = services.password_token_purpose(token) == TokenPurpose.INVITATION
    asks_consent = invited and not consent.has_consent(user, consent.PRIVACY)
    form = AcceptAccountForm() if asks_consent else SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.set_password_with_token(token, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(error.message)
        else:
            if asks_consent:
                consent.grant_all(user, consented(form), source=ConsentSource.INVITATION)
                _switch_on_optional_items(user)
            start_session(user)
            flash(_("Your password has been set."), "success")
            return redirect(url_for("me.home"))
    return render_template(
        "accounts/set_password.html",
        form=form,
        user=user,
        consent_items=consent.CONSENT_ITEMS if asks_consent else None,
    )


@bp.route("/forgot", methods=["GET", "POST"])
@public
@limiter.limit("5 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_submitted_email)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(
            _("If an account uses this address, we have sent it a link to set a new password."),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


# --- Personal data (standard 10) ---------------------------------------------------------


@me_bp.route("/data.json")
@signed_in
def personal_data():
    from app import privacy

    response = jsonify(privacy.personal_data(current_user._get_current_object()))
    response.headers["Content-Disposition"] = content_disposition("my-coursedesk-data.json")
    response.headers["Cache-Control"] = "no-store"
    return response


@me_bp.route("/delete", methods=["GET", "POST"])
@signed_in
def delete_account():
    from app import privacy

    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            privacy.delete_personal_data(current_user._get_current_object(), form.password.data)
        except services.AccountError as error:
            form.password.errors.append(error.message)
        else:
            logout_user()
            session.clear()
            flash(_("Your personal data has been deleted and your account closed."), "info")
            return redirect(url_for("main.home"))
    return render_template("accounts/delete.html", form=form)
