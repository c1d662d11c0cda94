"""The calendar as a printable leaflet (PDF) and as an iCalendar feed."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from icalendar import Calendar, Event

from app.core.formatting import document_text
from app.core.links import external_url
from app.core.pdf import render_pdf
from app.core.timeutil import utcnow
from courses.models import CalendarYear, Course, CourseStatus
from courses.services import group_by_month


def leaflet_pdf(year: int, calendar: CalendarYear | None, courses: list[Course]) -> bytes:
    """The printable leaflet; staff may print a draft year, which has no CalendarYear yet."""
    return render_pdf(
        "calendar/leaflet.html",
        year=year,
        calendar=calendar,
        months=group_by_month(courses),
        course_count=len(courses),
        generated_at=utcnow(),
    )


def calendar_ics(year: int, courses: list[Course]) -> bytes:
    """One VEVENT per course; UIDs are stable so subscribed clients update in place."""
    feed = Calendar()
    feed.add("prodid", "-//CourseDesk//Training calendar//KO")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", f"{current_app.config['INSTITUTE_NAME']} {year}")
    feed.add("x-wr-timezone", current_app.config["TIMEZONE"])
    feed.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})
    host = current_app.config.get("SERVER_NAME") or "coursedesk"
    stamp = utcnow()
    for course in courses:
        event = Event()
        event.add("uid", f"course-{course.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("last-modified", course.updated_at)
        event.add("dtstart", course.starts_at)
        event.add("dtend", course.ends_at)
        event.add("summary", document_text(course.title))
        event.add("description", document_text(f"{course.summary}\n\n{course.content}"))
        event.add("location", document_text(course.venue))
        event.add("url", external_url("courses.detail", course_id=course.id))
        event.add("status", "CANCELLED" if course.status == CourseStatus.CANCELLED else "CONFIRMED")
        feed.add_component(event)
    return feed.to_ical()
