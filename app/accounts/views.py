"""Sign-in, sign-out, registration and password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.access import public, signed_in
from app.accounts import services
from app.accounts.forms import (
    CompanyRegistrationForm,
    LoginForm,
    PasswordChangeForm,
    RegistrationForm,
)
from app.accounts.models import Role
from app.extensions import db, limiter
from app.vocabulary import CompanySize, Region

bp = Blueprint("accounts", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths, so the login page cannot redirect elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _home_for(user) -> str:
    if user.role == Role.STAFF:
        return url_for("staff.dashboard")
    if user.role == Role.INSTRUCTOR:
        return url_for("courses.my_teaching")
    return url_for("main.home")


def _start_session(user) -> None:
    session.clear()
    session.permanent = True
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail or password is not correct."))
        else:
            _start_session(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")) or _home_for(user))
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
def register():
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                phone=form.phone.data,
                department=form.department.data,
            )
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            _start_session(user)
            flash(_("Your account has been created."), "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/register.html", form=form, company=False)


@bp.route("/register/company", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
def register_company():
    form = CompanyRegistrationForm()
    if form.validate_on_submit():
        try:
            company = services.create_company(
                name=form.company_name.data,
                business_number=form.business_number.data,
                region=Region(form.region.data),
                size=CompanySize(form.size.data),
            )
            user = services.create_user(
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                phone=form.phone.data,
                department=form.department.data,
                role=Role.COMPANY,
                company=company,
            )
            db.session.commit()
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            _start_session(user)
            flash(_("Your company account has been created."), "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/register.html", form=form, company=True)


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
            _start_session(user)
            flash(
                _("Your password has been changed. Other devices have been signed out."), "success"
            )
            return redirect(url_for("main.home"))
    return render_template("accounts/password.html", form=form)
