"""Command-line operations: `flask --app app <command>`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from app.core.accounts import services as accounts
from app.core.accounts.models import Role
from app.core.unit_of_work import unit_of_work
from app.core.vocabulary import CompanySize, Region


def init_app(app: Flask) -> None:
    from app.core import outbox

    for command in (
        create_user,
        seed_demo,
        announce_due,
        remind_due,
        surveys_cli,
        visits_cli,
        standards_cli,
        voice_cli,
    ):
        app.cli.add_command(command)
    outbox.init_app(app)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.LEARNER.value,
    show_default=True,
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
@click.option("--company-number", help="Business registration number of the user's company.")
@click.option("--company-name", help="Creates the company when it does not exist yet.")
@click.option("--region", type=click.Choice([r.value for r in Region]), default=Region.SEOUL.value)
@click.option(
    "--size", type=click.Choice([s.value for s in CompanySize]), default=CompanySize.SME.value
)
def create_user(
    email: str,
    name: str,
    role: str,
    password: str,
    company_number: str | None,
    company_name: str | None,
    region: str,
    size: str,
) -> None:
    """Create an account of any role."""
    try:
        with unit_of_work():
            company = None
            if company_number:
                company = accounts.find_company(company_number)
                if company is None:
                    if not company_name:
                        raise click.UsageError("Unknown company: give --company-name to create it.")
                    company = accounts.create_company(
                        name=company_name,
                        business_number=company_number,
                        region=Region(region),
                        size=CompanySize(size),
                        approved=True,
                    )
            user = accounts.create_user(
                email=email,
                name=name,
                password=password,
                role=Role(role),
                company=company,
                email_verified=True,
            )
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@click.command("seed-demo")
def seed_demo() -> None:
    """Load a realistic demo year (idempotent: running it again adds nothing)."""
    from app.demo import seed

    with unit_of_work():  # commits what the steps that do not commit themselves wrote
        summary = seed()
    click.echo(summary.report())


@click.command("announce-due")
def announce_due() -> None:
    """Publish the announcements that are due and queue the newsletter (idempotent)."""
    from courses.announcements import announce_due as run

    click.echo(f"Announcements: {run(unit=unit_of_work)}.")  # one transaction per course


@click.command("remind-due")
def remind_due() -> None:
    """Queue the day-before reminders, with the course's .ics attached (idempotent)."""
    from courses.enrolment import remind_due as run

    with unit_of_work():
        queued = run()
    click.echo(f"Reminders queued: {queued}.")


@click.group("surveys")
def surveys_cli() -> None:
    """Survey invitations and the release of sealed answers."""


@surveys_cli.command("invite-post-course")
@click.option(
    "--within-days", default=30, show_default=True, help="Courses that ended this recently."
)
@with_appcontext
def invite_post_course(within_days: int) -> None:
    """Invite the attendees of ended courses, remind them after 3 and 7 days, and release
    the sealed answers that are due (idempotent)."""
    from surveys.services import invite_post_course as run
    from surveys.services import release_due

    with unit_of_work():
        report = run(within_days=within_days)
    with unit_of_work():  # apart, so that a release never waits on the invitations' locks
        released = release_due()
    click.echo(f"Post-course surveys: {report}; {released} answers released.")


@surveys_cli.command("invite-half-yearly")
@click.option("--half", required=True, help="The half-year, e.g. 2027H1.")
@with_appcontext
def invite_half_yearly(half: str) -> None:
    """Invite everyone who completed a course in the half-year, once per person, and release
    the sealed answers that are due (idempotent)."""
    from surveys.services import SurveyError, release_due
    from surveys.services import invite_half_yearly as run

    try:
        with unit_of_work():
            report = run(half.strip().upper())
    except SurveyError as error:
        raise click.BadParameter(error.message, param_hint="--half") from error
    with unit_of_work():
        released = release_due()
    click.echo(f"Half-yearly survey {half}: {report}; {released} answers released.")


@surveys_cli.command("release-due")
@with_appcontext
def release_due() -> None:
    """Release the sealed survey answers that are due: k waiting in a group, or the survey
    closed (idempotent; the invite commands run it too)."""
    from surveys.services import release_due as run

    with unit_of_work():
        released = run()
    click.echo(f"Survey answers released: {released}.")


@click.group("visits")
def visits_cli() -> None:
    """Custom on-site training requests."""


@visits_cli.command("lapse-due")
@with_appcontext
def lapse_due() -> None:
    """Lapse requests whose sign-up deadline passed below the threshold (idempotent)."""
    from visits.services import lapse_due as run

    click.echo(f"On-site requests lapsed: {run(unit=unit_of_work)}.")  # one per request


@click.group("standards")
def standards_cli() -> None:
    """The service-standards report."""


@standards_cli.command("report")
@click.option("--year", required=True, type=click.IntRange(2000, 2100), help="e.g. 2026.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the report as a PDF to this file.",
)
@with_appcontext
def standards_report(year: int, output: str | None) -> None:
    """Print every standard of the year with its figure, target and state (as the data
    stands now; nothing is published or changed)."""
    from flask_babel import gettext as _

    from app.core.formatting import local_datetime
    from app.standards.documents import report_pdf
    from app.standards.services import compute, published_report

    report = compute(year)
    click.echo(_("Service standards %(year)d", year=year))
    click.echo(_("Figures as of %(date)s", date=local_datetime(report.computed_at)))
    for item in report.standards:
        click.echo(
            f"{item.number:>2}. {item.title}: {item.figure.text} "
            f"({_('target')} {item.target.text}) - {item.state.label}"
        )
    if output:
        with open(output, "wb") as pdf:
            pdf.write(report_pdf(report, published_report(year)))
        click.echo(f"Written to {output}.")


@click.group("voice")
def voice_cli() -> None:
    """The customers' voice desk."""


@voice_cli.command("purge")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    default=3 * 365,
    show_default=True,
    help="Closed items closed longer ago than this lose their personal data.",
)
@with_appcontext
def voice_purge(older_than_days: int) -> None:
    """The retention rule: scrub the personal data of old closed items, keeping their
    figures (idempotent)."""
    from voice.services import purge

    with unit_of_work():
        scrubbed = purge(older_than_days=older_than_days)
    click.echo(f"Voice items scrubbed: {scrubbed}.")
