"""The demo's demand for courses (standard 5): topics on the demo courses, "notify me"
sign-ups across topics, regions and audiences (a few still unconfirmed), and one course of
the demo year opened on demand, announced, with its notices sent. Idempotent."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from app.core.accounts.models import User
from app.core.extensions import db
from app.core.timeutil import local_to_utc
from app.core.vocabulary import Region
from courses import announcements, demand, services
from courses.models import (
    Audience,
    Course,
    CourseFormat,
    CourseInterest,
    SizeFocus,
    Topic,
)

#: The demo courses' titles are the institute's subjects.
TITLE_TOPICS = {
    "전략물자 수출통제 제도의 이해": Topic.BASICS,
    "전략물자 판정 실무": Topic.CLASSIFICATION,
    "이중용도품목 판정": Topic.DUAL_USE,
    "기술이전 통제": Topic.TECH_TRANSFER,
    "상황허가(캐치올) 실무": Topic.CATCH_ALL,
    "자율준수무역거래자(CP) 지정 준비": Topic.CP_DESIGNATION,
    "CP 실무자 과정": Topic.CP_PRACTITIONER,
    "경영진 대상 수출통제 리스크": Topic.EXECUTIVE_RISK,
    "미국 수출통제(EAR)의 이해": Topic.US_EAR,
    "대러 제재 동향": Topic.RUSSIA_SANCTIONS,
    "중소기업 대상 설명회": Topic.SME_BRIEFING,
    "온라인 기본과정": Topic.ONLINE_BASICS,
}

# (address, topic, region, audience, note, confirmed, days ago)
INTERESTS = [
    ("learner@example.com", Topic.RUSSIA_SANCTIONS, Region.SEOUL, Audience.PRACTITIONERS,
     "러시아향 중고 공작기계 수출 건이 있어 최근 제재 품목을 알고 싶습니다.", True, 40),
    ("trade@hanbit.example.com", Topic.RUSSIA_SANCTIONS, None, None,
     "CIS 지역 우회수출 위험 사례 위주로 듣고 싶습니다.", True, 35),
    ("export@daon.example.com", Topic.RUSSIA_SANCTIONS, Region.SEOUL, None, None, True, 30),
    ("cp@nuri.example.com", Topic.RUSSIA_SANCTIONS, Region.BUSAN, Audience.EXECUTIVES,
     "부산·경남 지역에서 임원 대상으로 열어 주세요.", True, 28),
    ("kim.sales@saebit.example.com", Topic.US_EAR, Region.GYEONGGI, Audience.PRACTITIONERS,
     "재수출(re-export) 규정과 미국산 부품 비율 계산 실습이 필요합니다.", True, 25),
    ("lee.rnd@hanbit.example.com", Topic.US_EAR, Region.GYEONGGI, Audience.PRACTITIONERS,
     None, True, 21),
    ("park.legal@daon.example.com", Topic.US_EAR, None, Audience.EXECUTIVES, None, True, 18),
    ("choi@saebit.example.com", Topic.TECH_TRANSFER, Region.DAEJEON, Audience.PRACTITIONERS,
     "연구소 기술자료 해외 공유 시 허가 기준을 배우고 싶습니다.", True, 15),
    ("jung.lab@nuri.example.com", Topic.TECH_TRANSFER, Region.DAEJEON, None, None, True, 12),
    ("han@gaon.example.com", Topic.CP_DESIGNATION, Region.ULSAN, Audience.PRACTITIONERS,
     "울산에서 CP 지정 준비 과정을 열어 주시면 좋겠습니다.", True, 10),
    ("yoon@gaon.example.com", Topic.CATCH_ALL, Region.GWANGJU, Audience.NEWCOMERS, None, True, 8),
    ("newcomer@hanbit.example.com", Topic.ONLINE_BASICS, Region.ONLINE, Audience.NEWCOMERS,
     "신입사원 교육용으로 저녁 시간대 온라인 과정이 있으면 합니다.", True, 5),
    # Still waiting for the confirmation link to be opened: not demand yet.
    ("pending1@example.com", Topic.US_EAR, Region.SEOUL, None, None, False, 2),
    ("pending2@example.com", Topic.DUAL_USE, Region.INCHEON, Audience.PRACTITIONERS,
     "인천 지역 판정 실습 과정을 원합니다.", False, 1),
]  # fmt: skip

DEMAND_COURSE_TITLE = "대러 제재 동향 — 수요 맞춤 과정"


def seed(summary, year: int, staff: User, today: date) -> None:
    _topics()
    _interests(summary, today)
    _course_on_demand(summary, year, staff, today)


def _topics() -> None:
    for title, topic in TITLE_TOPICS.items():
        db.session.execute(
            update(Course)
            .where(Course.title == title, Course.topic.is_(None))
            .values(topic=topic)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def _interests(summary, today: date) -> None:
    users = {
        user.email: user.id
        for user in db.session.execute(
            select(User).where(User.email.in_([row[0] for row in INTERESTS]))
        ).scalars()
    }
    for email, topic, region, audience, note, confirmed, days_ago in INTERESTS:
        key = demand.wish_key(topic, region, audience)
        found = db.session.execute(
            select(CourseInterest.id).where(
                CourseInterest.email == email, CourseInterest.wish_key == key
            )
        ).first()
        if found:
            continue
        made = local_to_utc(datetime.combine(today - timedelta(days=days_ago), time(14, 30)))
        db.session.add(
            CourseInterest(
                email=email,
                user_id=users.get(email),
                topic=topic,
                region=region,
                audience=audience,
                wish_key=key,
                note=note,
                token=secrets.token_urlsafe(32),
                created_at=made,
                confirmed_at=made + timedelta(minutes=7) if confirmed else None,
            )
        )
        summary.count("course notices")
    db.session.commit()


def _course_on_demand(summary, year: int, staff: User, today: date) -> None:
    exists = db.session.execute(
        select(Course.id).where(
            Course.title == DEMAND_COURSE_TITLE, Course.opened_on_demand_at.is_not(None)
        )
    ).first()
    if exists:
        return
    day = today + timedelta(days=12)
    if day.year != year:  # late December: keep the course in the demo year
        day = date(year, 12, 1)
    while day.weekday() > 4:
        day += timedelta(days=1)
    course = services.create_course(
        services.CourseDetails(
            title=DEMAND_COURSE_TITLE,
            summary="수요 등록에 따라 개설한 과정: 최근 대러 제재 품목과 우회수출 위험 사례.",
            content="1교시 대러 수출통제 품목 확대 동향\n2교시 제3국 경유 우회수출 위험 사례\n"
            "3교시 거래 상대방 확인(레드플래그) 실습",
            audience=Audience.PRACTITIONERS,
            size_focus=SizeFocus.ALL,
            format=CourseFormat.CLASSROOM,
            region=Region.SEOUL,
            venue="서울 강남구 테헤란로 무역센터 교육장",
            starts_at=local_to_utc(datetime.combine(day, time(10, 0))),
            ends_at=local_to_utc(datetime.combine(day, time(17, 0))),
            hours=Decimal("6"),
            capacity=40,
            topic=Topic.RUSSIA_SANCTIONS,
        ),
        by=staff,
    )
    demand.mark_opened_on_demand(course, by=staff)
    if services.calendar_is_public(year):
        services.publish_course(course, by=staff)
        announcements.announce(course)  # at once, if publishing did not already
    db.session.commit()
    summary.count("courses opened on demand")
