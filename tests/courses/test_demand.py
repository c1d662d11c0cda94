"""Practical courses on demand (standard 5): "notify me" sign-ups with double opt-in, the
mail when a matching course is announced, the staff demand page and the year's figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.vocabulary import Region
from courses import announcements, demand, privacy
from courses.models import (
    Announcement,
    Audience,
    Course,
    CourseFormat,
    CourseInterest,
    CourseStatus,
    InterestNotification,
    Topic,
)
from tests.conftest import POSTGRES_URL, IsolatedClient, _config, login, post_form
from tests.courses.test_concurrency import run_together
from tests.courses.test_course_management import course_form
from tests.factories import make_course, make_user, publish_year

SOON = datetime.now() + timedelta(days=30)


def mails(kind: str, to: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.execute(query).scalars())


def interests() -> list[CourseInterest]:
    db.session.expire_all()
    return list(db.session.execute(select(CourseInterest).order_by(CourseInterest.id)).scalars())


def confirmed(email: str, topic: Topic = Topic.CATCH_ALL, **wish) -> CourseInterest:
    interest = demand.register_interest(email, topic=topic, **wish)
    demand.confirm_interest(interest.token)
    db.session.commit()
    return interest


def course_on(topic: Topic | None = Topic.CATCH_ALL, **fields) -> Course:
    return make_course(starts=SOON, topic=topic, **fields)


def announced(course: Course) -> int:
    """Announce the course as `announce-due` does; the number of notify-me mails it made."""
    before = len(mails("demand_course"))
    announcements.announce(course)
    db.session.commit()
    return len(mails("demand_course")) - before


# --- Double opt-in ----------------------------------------------------------------------


def test_a_sign_up_gets_only_a_confirmation_until_it_is_confirmed(app) -> None:
    interest = demand.register_interest("Kim@Example.com", topic=Topic.CATCH_ALL)
    db.session.commit()
    (confirm,) = mails("demand_confirm", "kim@example.com")
    assert f"http://localhost/courses/notify/confirm/{interest.token}" in confirm.body
    assert confirm.unsubscribe_url == f"http://localhost/courses/notify/withdraw/{interest.token}"

    assert announced(course_on()) == 0  # not confirmed: not demand, no mail

    demand.confirm_interest(interest.token)
    db.session.commit()
    assert announced(course_on()) == 1
    (mail,) = mails("demand_course", "kim@example.com")
    assert re.search(r"http://localhost/courses/\d+\b", mail.body)
    assert mail.unsubscribe_url.startswith("http://localhost/courses/notify/withdraw/")
    assert "뉴스레터" not in mail.body  # the footer says why this mail came, not "newsletter"


def test_the_confirmation_link_asks_first_and_a_post_confirms(client) -> None:
    interest = demand.register_interest("lee@example.com", topic=Topic.US_EAR)
    db.session.commit()
    page = client.get(f"/courses/notify/confirm/{interest.token}")
    assert page.status_code == 200 and "알림 신청 확인" in page.get_data(as_text=True)
    assert interests()[0].confirmed_at is None  # a mail scanner opening the link confirms nothing
    assert post_form(client, f"/courses/notify/confirm/{interest.token}").status_code == 200
    assert interests()[0].confirmed_at is not None
    assert client.get("/courses/notify/confirm/no-such-token").status_code == 404


def test_signing_up_again_for_the_same_wish_keeps_one_row(app) -> None:
    first = demand.register_interest("park@example.com", topic=Topic.US_EAR, region=Region.SEOUL)
    again = demand.register_interest("PARK@example.com ", topic=Topic.US_EAR, region=Region.SEOUL)
    db.session.commit()
    assert first.id == again.id and len(interests()) == 1
    demand.confirm_interest(again.token)
    demand.register_interest("park@example.com", topic=Topic.US_EAR, region=Region.SEOUL)
    db.session.commit()
    assert len(interests()) == 1 and interests()[0].is_active  # a confirmed one stays as it was
    demand.register_interest("park@example.com", topic=Topic.US_EAR)  # another wish: a new row
    db.session.commit()
    assert len(interests()) == 2


# --- Matching -------------------------------------------------------------------------------

ANY = None


@pytest.mark.parametrize(
    ("wish", "course", "told"),
    [
        ({}, {}, True),
        ({"topic": Topic.US_EAR}, {}, False),
        ({"region": Region.SEOUL}, {"region": Region.SEOUL}, True),
        ({"region": Region.BUSAN}, {"region": Region.SEOUL}, False),
        ({"region": Region.BUSAN}, {"region": Region.ONLINE, "format": CourseFormat.ONLINE}, True),
        ({"region": Region.BUSAN}, {"region": Region.SEOUL, "format": CourseFormat.ONLINE}, True),
        ({"audience": Audience.EXECUTIVES}, {"audience": Audience.EXECUTIVES}, True),
        ({"audience": Audience.EXECUTIVES}, {"audience": Audience.PRACTITIONERS}, False),
        ({"audience": Audience.EXECUTIVES}, {"audience": Audience.ALL}, True),
        ({"audience": ANY}, {"audience": Audience.NEWCOMERS}, True),
        ({}, {"topic": None}, False),
        ({}, {"status": CourseStatus.DRAFT}, False),
        ({}, {"private": True}, False),
    ],
)
def test_a_course_reaches_the_interests_it_matches(app, wish: dict, course: dict, told) -> None:
    confirmed("choi@example.com", **{"topic": Topic.CATCH_ALL, **wish})
    topic = course.pop("topic", Topic.CATCH_ALL)
    target = course_on(topic, **{"region": Region.SEOUL, **course})
    assert [i.email for i in demand.matching_interests(target)] == (
        ["choi@example.com"] if told else []
    )


def test_the_full_course_a_sign_up_came_from_is_not_offered_back(app) -> None:
    full = course_on(capacity=1, seats_taken=1)
    demand.register_interest("jung@example.com", topic=Topic.CATCH_ALL, course=full)
    demand.confirm_interest(interests()[0].token)
    db.session.commit()
    assert demand.matching_interests(full) == []
    assert [i.email for i in demand.matching_interests(course_on())] == ["jung@example.com"]


# --- Once per course and person -------------------------------------------------------------


def test_one_mail_per_interest_and_course_when_announce_runs_twice(app) -> None:
    confirmed("han@example.com")
    course = course_on()
    assert announced(course) == 1
    # A second run that also "wins" (the announcement unpublished in between, as two racing
    # cron runs on a stale read would see it) and a direct second call: still one mail.
    db.session.execute(update(Announcement).values(published_at=None))
    db.session.commit()
    assert announced(course) == 0
    assert demand.notify_matching(course) == 0
    db.session.commit()
    assert len(mails("demand_course", "han@example.com")) == 1
    assert db.session.execute(select(func.count(InterestNotification.id))).scalar_one() == 1


def test_two_wishes_of_one_person_give_one_mail_per_course(app) -> None:
    confirmed("yoon@example.com")
    confirmed("yoon@example.com", region=Region.SEOUL)
    assert announced(course_on(region=Region.SEOUL)) == 1
    assert db.session.execute(select(func.count(InterestNotification.id))).scalar_one() == 2


def test_the_interest_stays_active_after_a_mail_and_hears_of_the_next_course(app) -> None:
    confirmed("oh@example.com")
    assert announced(course_on()) == 1
    assert announced(course_on()) == 1
    assert len(mails("demand_course", "oh@example.com")) == 2


def test_withdrawing_stops_the_mail_for_every_wish_of_the_address(client) -> None:
    first = confirmed("seo@example.com")
    confirmed("seo@example.com", region=Region.SEOUL)
    confirmed("other@example.com")
    # The one-click unsubscribe of the mail (RFC 8058): a POST without a CSRF token.
    assert client.get(f"/courses/notify/withdraw/{first.token}").status_code == 200
    assert client.post(f"/courses/notify/withdraw/{first.token}").status_code == 200
    assert announced(course_on(region=Region.SEOUL)) == 1
    assert mails("demand_course", "seo@example.com") == []
    assert len(mails("demand_course", "other@example.com")) == 1
    assert client.post("/courses/notify/withdraw/no-such-token").status_code == 404


# --- The year's figures ---------------------------------------------------------------------


def test_demand_standard_counts_the_year(app) -> None:
    def interest(email, topic, confirmed_at, **wish):
        row = CourseInterest(
            email=email,
            topic=topic,
            wish_key=demand.wish_key(topic, wish.get("region"), wish.get("audience")),
            token=email,
            confirmed_at=confirmed_at,
            **wish,
        )
        db.session.add(row)
        return row

    # 1 January 01:00 in Seoul is still 2026 in UTC: it counts for 2027.
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    a = interest("a@example.com", Topic.US_EAR, new_year)
    b = interest("b@example.com", Topic.US_EAR, datetime(2027, 5, 1, tzinfo=UTC))
    c = interest("c@example.com", Topic.CATCH_ALL, datetime(2027, 12, 31, 14, 0, tzinfo=UTC))
    interest("d@example.com", Topic.DUAL_USE, datetime(2026, 12, 31, 14, 0, tzinfo=UTC))  # 2026
    interest("e@example.com", Topic.TECH_TRANSFER, None)  # never confirmed
    c.withdrawn_at = datetime(2027, 12, 31, 14, 30, tzinfo=UTC)  # demand all the same
    db.session.commit()
    opened = datetime(2027, 1, 5, tzinfo=UTC)
    on_demand = course_on(Topic.US_EAR, opened_on_demand_at=opened)
    course_on(Topic.US_EAR, opened_on_demand_at=opened, status=CourseStatus.DRAFT)
    make_course(starts=datetime(2026, 11, 2, 10), topic=Topic.US_EAR, opened_on_demand_at=opened)
    course_on(Topic.US_EAR)  # published, not opened on demand
    for row in (a, b):
        db.session.add(InterestNotification(interest_id=row.id, course_id=on_demand.id))
    db.session.add(InterestNotification(interest_id=a.id, course_id=course_on(Topic.US_EAR).id))
    db.session.commit()

    assert demand.demand_standard(on_demand.year) == demand.DemandStandard(
        year=on_demand.year,
        interests=3,
        topics_with_demand=2,
        courses_opened_on_demand=1,
        people_notified=2,
    )
    assert demand.demand_standard(2026).interests == 1


# --- What staff see and do ------------------------------------------------------------------


def test_the_demand_page_counts_confirmed_wishes_by_topic_region_and_audience(client) -> None:
    for n in range(3):
        confirmed(
            f"p{n}@example.com",
            Topic.US_EAR,
            region=Region.GYEONGGI,
            audience=Audience.PRACTITIONERS,
            note="재수출 규정 실습" if n == 0 else None,
        )
    confirmed("q@example.com", Topic.US_EAR)
    confirmed("r@example.com", Topic.TECH_TRANSFER, region=Region.DAEJEON)
    demand.register_interest("pending@example.com", topic=Topic.US_EAR)  # not confirmed
    withdrawn = confirmed("gone@example.com", Topic.TECH_TRANSFER)
    demand.withdraw_interest(withdrawn.token)
    db.session.commit()

    rows = demand.demand_rows()
    assert [(r.topic, r.region, r.audience, r.interests) for r in rows] == [
        (Topic.US_EAR, Region.GYEONGGI, Audience.PRACTITIONERS, 3),
        (Topic.TECH_TRANSFER, Region.DAEJEON, None, 1),
        (Topic.US_EAR, None, None, 1),
    ]
    topics = demand.topic_demand(rows)
    assert [(t.topic, t.interests, t.top.region) for t in topics] == [
        (Topic.US_EAR, 4, Region.GYEONGGI),
        (Topic.TECH_TRANSFER, 1, Region.DAEJEON),
    ]
    assert [n.note for n in demand.demand_notes()] == ["재수출 규정 실습"]

    login(client, make_user(Role.STAFF).email)
    page = client.get("/courses/demand").get_data(as_text=True)
    assert "미국 수출통제(EAR)의 이해" in page and "재수출 규정 실습" in page
    assert "p0@example.com" not in page  # staff read the demand, not the addresses
    assert "/courses/demand/new?topic=us_ear&amp;region=gyeonggi&amp;audience=practitioners" in page


def test_a_course_created_from_demand_is_marked_and_audited(client) -> None:
    staff = make_user(Role.STAFF)
    login(client, staff.email)
    url = "/courses/demand/new?topic=us_ear&region=gyeonggi&audience=practitioners"
    form = client.get(url).get_data(as_text=True)
    assert 'value="미국 수출통제(EAR)의 이해"' in form
    assert re.search(r'<option selected value="us_ear">|<option value="us_ear" selected', form)
    response = post_form(
        client,
        url,
        course_form(title="미국 수출통제(EAR)의 이해 — 경기", topic="us_ear", region="gyeonggi"),
    )
    assert response.status_code == 302
    course = db.session.execute(select(Course)).scalar_one()
    assert course.topic == Topic.US_EAR and course.opened_on_demand_at is not None
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(actions) == ["course.create", "course.open_on_demand"]
    assert client.get("/courses/demand/new?topic=nuclear").status_code == 404


def test_a_course_created_the_usual_way_is_not_opened_on_demand(client) -> None:
    login(client, make_user(Role.STAFF).email)
    assert post_form(client, "/courses/new", course_form(topic="catch_all")).status_code == 302
    course = db.session.execute(select(Course)).scalar_one()
    assert course.topic == Topic.CATCH_ALL and course.opened_on_demand_at is None


@pytest.mark.parametrize("role", [None, Role.LEARNER, Role.COMPANY, Role.INSTRUCTOR])
def test_the_demand_pages_are_for_staff_only(client, role) -> None:
    if role is not None:
        login(client, make_user(role).email)
    for url in ("/courses/demand", "/courses/demand/new?topic=us_ear"):
        response = client.get(url)
        if role is None:
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
        else:
            assert response.status_code == 403


# --- The sign-up page -----------------------------------------------------------------------


def test_a_full_course_offers_notify_me_and_the_sign_up_records_it(client) -> None:
    full = course_on(Topic.CATCH_ALL, capacity=1, seats_taken=1, region=Region.BUSAN)
    publish_year(full.year)
    page = client.get(f"/courses/{full.id}").get_data(as_text=True)
    assert f'href="/courses/notify?course={full.id}"' in page
    form = client.get(f"/courses/notify?course={full.id}").get_data(as_text=True)
    assert re.search(r'<option (selected )?value="catch_all"( selected)?>', form)
    assert 'selected value="busan"' in form or 'value="busan" selected' in form
    response = post_form(
        client,
        f"/courses/notify?course={full.id}",
        {"email": "visitor@example.com", "topic": "catch_all", "region": "busan"},
    )
    assert response.status_code == 200 and "visitor@example.com" in response.get_data(as_text=True)
    (interest,) = interests()
    assert (interest.course_id, interest.topic, interest.region) == (
        full.id,
        Topic.CATCH_ALL,
        Region.BUSAN,
    )
    assert interest.user_id is None and interest.confirmed_at is None


def test_a_course_with_seats_offers_no_notify_me(client) -> None:
    course = course_on()
    publish_year(course.year)
    assert "/courses/notify" not in client.get(f"/courses/{course.id}").get_data(as_text=True)


def test_a_signed_in_user_finds_the_address_filled_in(client) -> None:
    user = make_user(email="me@example.com")
    login(client, user.email)
    assert 'value="me@example.com"' in client.get("/courses/notify").get_data(as_text=True)
    post_form(client, "/courses/notify", {"email": "me@example.com", "topic": "us_ear"})
    assert interests()[0].user_id == user.id


def test_an_empty_catalog_search_links_the_sign_up(client) -> None:
    page = client.get("/courses/?region=ulsan").get_data(as_text=True)
    assert "/courses/notify?region=ulsan" in page


VALID = {"email": "ok@example.com", "topic": "us_ear", "region": "", "audience": "", "note": ""}


@pytest.mark.parametrize(
    "changes",
    [
        {"email": ""},
        {"email": "not-an-address"},
        {"email": "a" * 250 + "@example.com"},
        {"topic": ""},
        {"topic": "nuclear"},
        {"region": "mars"},
        {"audience": "all"},
        {"note": "x" * 501},
        {"note": "NUL\x00inside"},
        {"note": "bell\x07"},
        {"email": "ok@example.com\r\nBcc: victim@example.com"},
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(client, changes: dict) -> None:
    response = post_form(client, "/courses/notify", {**VALID, **changes})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert interests() == [] and mails("demand_confirm") == []


def test_the_valid_form_is_saved(client) -> None:
    assert post_form(client, "/courses/notify", VALID).status_code == 200
    assert [i.email for i in interests()] == ["ok@example.com"]


FIELD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=("Cc", "Cf", "Zl", "Zp", "Zs")), min_size=1, max_size=4),
    st.sampled_from(["us_ear", "seoul", "executives", "all", "ok@example.com", "x" * 600]),
)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(email=FIELD_TEXT, topic=FIELD_TEXT, region=FIELD_TEXT, audience=FIELD_TEXT, note=FIELD_TEXT)
def test_any_input_is_answered_without_an_error_and_saved_only_when_valid(
    app, email, topic, region, audience, note
) -> None:
    db.session.execute(delete(CourseInterest))
    db.session.commit()
    client = app.test_client()
    assert isinstance(client, IsolatedClient)
    data = {"email": email, "topic": topic, "region": region, "audience": audience, "note": note}
    response = post_form(client, "/courses/notify", data)
    assert response.status_code in (200, 400)
    saved = interests()
    if response.status_code == 400:
        assert saved == []
        return
    (interest,) = saved
    assert interest.topic.value == topic and interest.email == email.strip().lower()
    assert interest.note is None or (
        len(interest.note) <= 500 and not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", interest.note)
    )


# --- Privacy ----------------------------------------------------------------------------------


def test_a_persons_sign_ups_are_exported_and_erased(app) -> None:
    user = make_user(email="mine@example.com")
    by_account = demand.register_interest(
        "mine@example.com", topic=Topic.US_EAR, user=user, note="EAR 재수출"
    )
    demand.register_interest("MINE@example.com", topic=Topic.CATCH_ALL, region=Region.BUSAN)
    demand.register_interest("someone.else@example.com", topic=Topic.US_EAR)
    demand.confirm_interest(by_account.token)
    db.session.commit()
    announced(course_on(Topic.US_EAR))

    exported = privacy.export(user)["course_notices"]
    assert [(n["topic"], n["region"], n["note"], n["confirmed"]) for n in exported] == [
        ("us_ear", None, "EAR 재수출", True),
        ("catch_all", "busan", None, False),
    ]
    assert "token" not in str(exported)

    privacy.erase(user)
    db.session.commit()
    assert [i.email for i in interests()] == ["someone.else@example.com"]
    assert db.session.execute(select(func.count(InterestNotification.id))).scalar_one() == 0


@pytest.fixture
def rate_limited_app(database_url):
    from app import create_app
    from app.core.extensions import limiter

    app = create_app({**_config(database_url), "RATELIMIT_ENABLED": True})
    app.test_client_class = IsolatedClient
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        else:
            db.session.execute(delete(CourseInterest))
            db.session.commit()
        yield app
        limiter.reset()
        db.session.remove()


def test_sign_ups_for_one_address_are_rate_limited(rate_limited_app) -> None:
    client = rate_limited_app.test_client()
    topics = list(Topic)[:11]
    codes = [
        post_form(
            client, "/courses/notify", {"email": "flood@example.com", "topic": t.value}
        ).status_code
        for t in topics
    ]
    assert codes == [200] * 10 + [429]
    assert len(interests()) == 10


@pytest.mark.skipif(not POSTGRES_URL, reason="racing writers need a server database")
def test_racing_notifications_on_postgresql_mail_each_person_once(app) -> None:
    for n in range(5):
        confirmed(f"racer{n}@example.com")
    course_id = course_on().id

    results = run_together(
        app, 4, lambda _: demand.notify_matching(db.session.get(Course, course_id))
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(results) == 5
    assert db.session.execute(select(func.count(InterestNotification.id))).scalar_one() == 5
    assert len(mails("demand_course")) == 5


def test_the_demand_page_reads_aggregates_whatever_the_number_of_sign_ups(client) -> None:
    from tests.app.test_statements_per_page import _statements

    login(client, make_user(Role.STAFF).email)
    topics, regions = list(Topic), list(Region)

    def sign_ups(start: int, count: int) -> None:
        for n in range(start, start + count):
            confirmed(
                f"s{n}@example.com",
                topics[n % len(topics)],
                region=regions[n % len(regions)],
                note=f"요청 {n}",
            )
        course_on(topics[start % len(topics)], opened_on_demand_at=datetime.now(UTC))

    sign_ups(0, 3)
    small = _statements(client, "/courses/demand")
    sign_ups(3, 60)
    assert _statements(client, "/courses/demand") == small
