"""The public JSON API of published courses."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from app.core.access import public
from app.core.links import external_url
from courses import paging, services
from courses.forms import ApiCoursesQuery
from courses.models import Course
from courses.views.blueprint import bp


@bp.route("/api/v1/courses")
@public
def api_courses():
    query = ApiCoursesQuery(formdata=request.args)
    if not query.validate():
        return jsonify(
            {
                "error": _(
                    "Give a year between 2000 and 2100, e.g. ?year=2027; limit is 1 to "
                    "%(most)d; cursor is the one a previous answer gave in `next`.",
                    most=paging.API_MAX_LIMIT,
                )
            }
        ), 400
    year = query.year.data
    if not services.calendar_is_public(year):
        return jsonify({"year": year, "published": False, "courses": [], "next": None})
    limit = query.limit.data or paging.API_DEFAULT_LIMIT
    after = paging.decode_cursor(query.cursor.data) if query.cursor.data else None
    courses, following = services.courses_after(
        services.CourseFilter(year=year), after=after, limit=limit
    )
    next_url = (
        external_url(
            "courses.api_courses",
            year=year,
            limit=limit,
            cursor=paging.encode_cursor(following),
        )
        if following
        else None
    )
    return jsonify(
        {
            "year": year,
            "published": True,
            "courses": [_course_json(course) for course in courses],
            "next": next_url,
        }
    )


def _course_json(course: Course) -> dict:
    return {
        "id": course.id,
        "title": course.title,
        "summary": course.summary,
        "audience": course.audience,
        "company_size": course.size_focus,
        "format": course.format,
        "region": course.region,
        "venue": course.venue,
        "starts_at": course.starts_at.isoformat(),
        "ends_at": course.ends_at.isoformat(),
        "hours": float(course.hours),
        "capacity": course.capacity,
        "seats_left": course.seats_left,
        "fee": course.fee,
        "instructors": [user.name for user in course.instructors],
        "url": external_url("courses.detail", course_id=course.id),
    }
