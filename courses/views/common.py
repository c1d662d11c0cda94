"""Loading helpers shared by the route modules of the courses blueprint."""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_login import current_user

from app.core.accounts.models import Role
from app.core.extensions import db
from courses import services
from courses.models import Course, CourseStatus, Enrollment

ALL_STATUSES = tuple(CourseStatus)


def acting_user():
    """The signed-in user as the ORM object the services take."""
    return current_user._get_current_object()


def is_staff() -> bool:
    return current_user.is_authenticated and current_user.role == Role.STAFF


def course_or_404(course_id: int) -> Course:
    """The course, or 404 when it does not exist or is not this user's to see."""
    course = services.get_course(course_id)
    if course is None or not services.can_see_course(course, current_user):
        abort(404)
    return course


def enrollment_or_404(course: Course, enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.course_id != course.id:
        abort(404)
    return enrollment


def back_to_course(course: Course, anchor: str = ""):
    return redirect(url_for("courses.detail", course_id=course.id) + anchor)
