"""A realistic demo year for `flask --app app seed-demo`; running it twice adds nothing."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.core.accounts import services as accounts
from app.core.accounts.models import Company, Role, User
from app.core.extensions import db
from app.core.timeutil import local_to_utc, local_today, utcnow
from app.core.vocabulary import CompanySize, Region
from app.standards import services as standards
from courses import announcements, attendance, demo_demand, enrolment, materials
from courses import services as courses
from courses.models import (
    AttendanceStatus,
    Audience,
    Course,
    CourseFormat,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    SizeFocus,
    Subscriber,
)
from surveys import meetings
from surveys import services as surveys
from surveys.models import Invitation, QuestionType, SurveyKind
from visits import mentoring
from visits import services as visits
from visits.models import ChecklistStatus, CpStatus, MentoringCase, MentoringNeed
from voice import demo as voice_demo

DEMO_PASSWORD = "coursedesk-demo"


@dataclass(frozen=True)
class Subject:
    title: str
    summary: str
    content: str
    audience: Audience
    size_focus: SizeFocus
    format: CourseFormat
    days: int
    hours: Decimal
    capacity: int
    fee: int = 0


SUBJECTS = {
    "basics": Subject(
        "전략물자 수출통제 제도의 이해",
        "수출통제 제도의 목적과 국내외 법령 체계, 기업이 지켜야 할 기본 의무를 익힙니다.",
        "1교시 국제 수출통제 체제(바세나르, NSG, MTCR, AG)와 대외무역법\n"
        "2교시 전략물자의 정의와 통제 대상 품목·기술\n"
        "3교시 수출허가 절차와 위반 시 처벌 사례\n"
        "4교시 질의응답",
        Audience.NEWCOMERS,
        SizeFocus.ALL,
        CourseFormat.CLASSROOM,
        1,
        Decimal("6"),
        40,
    ),
    "classification": Subject(
        "전략물자 판정 실무",
        "통제번호 체계를 읽고 자사 품목의 해당 여부를 직접 판정해 봅니다.",
        "1일차 전략물자 고시 구조와 통제번호 읽는 법, 사전판정 신청 방법\n"
        "2일차 업종별 판정 실습(기계, 전자, 화학), 판정서 작성",
        Audience.PRACTITIONERS,
        SizeFocus.ALL,
        CourseFormat.CLASSROOM,
        2,
        Decimal("12"),
        30,
        100000,
    ),
    "dual_use": Subject(
        "이중용도품목 판정",
        "민수용으로 개발된 품목이 군사적으로 전용될 수 있는 경우를 판정 사례로 배웁니다.",
        "1교시 이중용도품목 목록(EU·바세나르)과 국내 고시의 대응\n"
        "2교시 사양 기준 판정: 성능 파라미터 읽기\n3교시 사례 실습",
        Audience.PRACTITIONERS,
        SizeFocus.LARGE,
        CourseFormat.CLASSROOM,
        1,
        Decimal("7"),
        30,
        50000,
    ),
    "technology": Subject(
        "기술이전 통제",
        "기술자료 송부, 해외 연구협력, 외국인 채용에서 생기는 기술 수출 통제를 다룹니다.",
        "1교시 기술의 정의와 무형 기술이전의 유형\n2교시 클라우드·이메일을 통한 기술 제공\n"
        "3교시 연구기관·대학의 통제 사례",
        Audience.PRACTITIONERS,
        SizeFocus.ALL,
        CourseFormat.CLASSROOM,
        1,
        Decimal("6"),
        30,
    ),
    "catch_all": Subject(
        "상황허가(캐치올) 실무",
        "비통제 품목이라도 최종용도·최종사용자에 따라 허가가 필요한 상황허가를 익힙니다.",
        "1교시 상황허가 요건과 '알았거나 의심되는' 경우의 판단\n"
        "2교시 우려 거래자 목록과 레드플래그 점검\n3교시 거래 심사 실습",
        Audience.PRACTITIONERS,
        SizeFocus.ALL,
        CourseFormat.CLASSROOM,
        1,
        Decimal("6"),
        35,
    ),
    "cp_designation": Subject(
        "자율준수무역거래자(CP) 지정 준비",
        "자율준수무역거래자 지정 기준과 심사 절차, 준비 서류를 단계별로 안내합니다.",
        "1교시 지정 기준: 경영진 의지, 조직, 판정·심사 절차, 교육, 기록 관리, 감사\n"
        "2교시 내부 규정 작성 요령\n3교시 지정 심사 사례와 자주 지적되는 사항",
        Audience.PRACTITIONERS,
        SizeFocus.ALL,
        CourseFormat.CLASSROOM,
        1,
        Decimal("6"),
        30,
    ),
    "cp_practitioner": Subject(
        "CP 실무자 과정",
        "지정 기업의 수출관리 담당자를 위한 심화 과정: 포괄허가 활용과 내부 감사.",
        "1일차 포괄수출허가 등 CP 기업 특례의 활용\n2일차 내부 감사와 자체 점검, 보고 체계",
        Audience.PRACTITIONERS,
        SizeFocus.LARGE,
        CourseFormat.CLASSROOM,
        2,
        Decimal("14"),
        25,
        150000,
    ),
    "executives": Subject(
        "경영진 대상 수출통제 리스크",
        "수출통제 위반이 기업에 미치는 법적·평판 리스크와 경영진의 역할을 짚습니다.",
        "1교시 최근 제재·처벌 사례와 기업 영향\n2교시 준법 체계에서 경영진의 책임\n3교시 토론",
        Audience.EXECUTIVES,
        SizeFocus.ALL,
        CourseFormat.CLASSROOM,
        1,
        Decimal("3"),
        40,
    ),
    "ear": Subject(
        "미국 수출통제(EAR)의 이해",
        "미국 수출관리규정의 역외 적용, 재수출 통제와 최소 포함 원칙을 설명합니다.",
        "1교시 EAR 구조와 CCL·ECCN\n2교시 재수출과 최소 포함(De minimis) 규정\n"
        "3교시 Entity List와 해외직접제품 규칙",
        Audience.PRACTITIONERS,
        SizeFocus.LARGE,
        CourseFormat.CLASSROOM,
        1,
        Decimal("6"),
        40,
        80000,
    ),
    "russia": Subject(
        "대러 제재 동향",
        "대러시아·벨라루스 수출통제 조치의 최신 동향과 우회 수출 위험을 살펴봅니다.",
        "1교시 국내 상황허가 대상 품목 확대 경과\n2교시 주요국 제재 비교\n"
        "3교시 제3국 우회 수출 점검",
        Audience.ALL,
        SizeFocus.ALL,
        CourseFormat.ONLINE,
        1,
        Decimal("3"),
        200,
    ),
    "sme": Subject(
        "중소기업 대상 설명회",
        "처음 수출하는 중소기업을 위해 전략물자 확인과 허가 신청 방법을 쉽게 설명합니다.",
        "1교시 우리 제품이 전략물자인지 확인하는 방법\n2교시 온라인 허가 신청 시연\n"
        "3교시 개별 상담",
        Audience.NEWCOMERS,
        SizeFocus.SME,
        CourseFormat.CLASSROOM,
        1,
        Decimal("3"),
        60,
    ),
    "online_basics": Subject(
        "온라인 기본과정",
        "언제 어디서나 들을 수 있는 수출통제 기본 과정입니다(실시간 화상 강의).",
        "1교시 수출통제 제도 개요\n2교시 전략물자 확인 절차\n3교시 자주 묻는 질문",
        Audience.NEWCOMERS,
        SizeFocus.ALL,
        CourseFormat.ONLINE,
        1,
        Decimal("3"),
        300,
    ),
}

VENUES = {
    Region.SEOUL: "서울 강남구 전략물자관리원 교육장",
    Region.INCHEON: "인천 연수구 송도컨벤시아",
    Region.GYEONGGI: "경기 수원 경기중소기업지원센터",
    Region.DAEJEON: "대전 유성구 대덕테크노밸리 세미나실",
    Region.DAEGU: "대구 북구 엑스코 회의실",
    Region.BUSAN: "부산 해운대구 벡스코 제2전시장 회의실",
    Region.ULSAN: "울산 남구 울산상공회의소",
    Region.CHANGWON: "경남 창원 창원컨벤션센터",
    Region.GWANGJU: "광주 서구 김대중컨벤션센터",
    Region.ONLINE: "온라인(화상 강의, 접속 링크는 신청자에게 안내)",
}

#: (month, day, subject, region): about forty courses spread over the year.
SCHEDULE = [
    (2, 10, "basics", Region.SEOUL),
    (2, 17, "sme", Region.GYEONGGI),
    (2, 24, "online_basics", Region.ONLINE),
    (3, 5, "classification", Region.SEOUL),
    (3, 12, "catch_all", Region.BUSAN),
    (3, 19, "executives", Region.SEOUL),
    (3, 26, "cp_designation", Region.DAEJEON),
    (4, 2, "basics", Region.DAEGU),
    (4, 9, "ear", Region.SEOUL),
    (4, 16, "technology", Region.DAEJEON),
    (4, 23, "sme", Region.CHANGWON),
    (4, 28, "russia", Region.ONLINE),
    (5, 7, "dual_use", Region.SEOUL),
    (5, 14, "cp_practitioner", Region.SEOUL),
    (5, 21, "basics", Region.GWANGJU),
    (5, 27, "online_basics", Region.ONLINE),
    (6, 4, "classification", Region.BUSAN),
    (6, 11, "catch_all", Region.SEOUL),
    (6, 18, "sme", Region.ULSAN),
    (6, 25, "cp_designation", Region.SEOUL),
    (7, 2, "basics", Region.INCHEON),
    (7, 9, "ear", Region.SEOUL),
    (7, 16, "technology", Region.SEOUL),
    (8, 20, "online_basics", Region.ONLINE),
    (8, 27, "russia", Region.ONLINE),
    (9, 3, "classification", Region.DAEJEON),
    (9, 10, "executives", Region.SEOUL),
    (9, 17, "basics", Region.BUSAN),
    (9, 24, "dual_use", Region.GYEONGGI),
    (10, 8, "cp_designation", Region.DAEGU),
    (10, 15, "catch_all", Region.GWANGJU),
    (10, 22, "sme", Region.INCHEON),
    (10, 29, "cp_practitioner", Region.SEOUL),
    (11, 5, "basics", Region.SEOUL),
    (11, 12, "ear", Region.BUSAN),
    (11, 26, "online_basics", Region.ONLINE),
    (12, 3, "classification", Region.SEOUL),
    (12, 8, "technology", Region.GYEONGGI),
    (12, 10, "catch_all", Region.ULSAN),
    (12, 15, "russia", Region.ONLINE),
]

#: Next year's calendar, drafted in the autumn and not yet published.
NEXT_YEAR_DRAFTS = [
    (1, 20, "basics", Region.SEOUL),
    (2, 3, "classification", Region.SEOUL),
    (2, 10, "sme", Region.BUSAN),
    (2, 24, "cp_designation", Region.DAEJEON),
    (3, 10, "catch_all", Region.SEOUL),
    (3, 17, "executives", Region.SEOUL),
    (3, 24, "online_basics", Region.ONLINE),
    (4, 7, "ear", Region.SEOUL),
]

STAFF = [
    ("staff@example.com", "김하늘", "교육운영팀"),
    ("edu.lead@example.com", "박정민", "교육운영팀"),
]
INSTRUCTORS = [
    ("instructor@example.com", "이수진"),
    ("choi.instructor@example.com", "최민호"),
    ("jung.instructor@example.com", "정유나"),
    ("kang.instructor@example.com", "강태웅"),
    ("yoon.instructor@example.com", "윤서영"),
]
COMPANIES = [
    ("한빛정밀", "1048112345", Region.GYEONGGI, CompanySize.SME, "company@example.com", "오세훈"),
    ("대양화학", "6108198765", Region.ULSAN, CompanySize.LARGE, "daeyang@example.com", "서지민"),
    ("누리전자", "3148176543", Region.DAEJEON, CompanySize.MIDSIZE, "nuri@example.com", "한가람"),
    ("동남기계", "6098154321", Region.CHANGWON, CompanySize.SME, "dongnam@example.com", "문도윤"),
    ("세종바이오", "2208187654", Region.SEOUL, CompanySize.MIDSIZE, "sejong@example.com", "배수아"),
    (
        "부산해양기술",
        "6028134567",
        Region.BUSAN,
        CompanySize.SME,
        "busanmarine@example.com",
        "임채원",
    ),
]
#: Registered this week: waits for staff approval at /staff/companies.
PENDING_COMPANY = (
    "광주정밀화학",
    "4108123456",
    Region.GWANGJU,
    CompanySize.SME,
    "gwangju@example.com",
    "정하윤",
)
LEARNER_NAMES = [
    "홍길동",
    "김민준",
    "이서연",
    "박지호",
    "최예은",
    "정도현",
    "강하린",
    "조현우",
    "윤지아",
    "장서준",
    "임수빈",
    "한지민",
    "오준서",
    "신유진",
    "권태현",
    "황보람",
    "송민서",
    "안재원",
    "유하은",
    "전시우",
]


@dataclass
class SeedSummary:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    def report(self) -> str:
        made = ", ".join(f"{n} {kind}" for kind, n in self.created.items()) or "nothing new"
        lines = [f"Demo data: {made}.", "Demo logins (password: " + DEMO_PASSWORD + "):"]
        lines += [f"  {role:<11} {email}" for role, email in self.logins]
        return "\n".join(lines)


def seed(today: date | None = None) -> SeedSummary:
    today = today or local_today()
    summary = SeedSummary()
    staff = [
        _user(summary, email, name, Role.STAFF, department=dept) for email, name, dept in STAFF
    ]
    teachers = [_user(summary, email, name, Role.INSTRUCTOR) for email, name in INSTRUCTORS]
    companies = [_company(summary, *row) for row in COMPANIES]
    _company(summary, *PENDING_COMPANY, approved=False)  # for staff to approve
    learners = []
    for index, name in enumerate(LEARNER_NAMES):
        company = companies[index % len(companies)] if index % 4 else None
        email = "learner@example.com" if index == 0 else f"learner{index:02d}@example.com"
        learners.append(
            _user(summary, email, name, Role.LEARNER, company=company, department="수출관리팀")
        )
    db.session.commit()

    year = today.year
    _courses(summary, year, SCHEDULE, teachers)
    if not courses.calendar_is_public(year):
        courses.publish_calendar(year, by=staff[0], at=local_to_utc(datetime(year, 1, 12, 10, 0)))
        summary.count("published calendars")
    _courses(summary, year + 1, NEXT_YEAR_DRAFTS, teachers)
    _workshop(summary, today, teachers)
    _history(summary, year, learners, staff[0], today)
    for _material in range(materials.seed_demo(year, by=staff[0])):
        summary.count("course materials")
    demo_demand.seed(summary, year, staff[0], today)
    _upcoming_enrolments(summary, learners)
    _subscribers(summary)
    _survey_history(summary, year, today)
    _onsite_requests(summary, companies)
    _mentoring_and_meetings(summary, companies, teachers, staff[0], today)
    voice_demo.seed(summary, staff=staff[0], learner=learners[0])
    _last_year(summary, today, learners, staff[0], teachers)

    summary.logins = [
        ("staff", STAFF[0][0]),
        ("instructor", INSTRUCTORS[0][0]),
        ("company", COMPANIES[0][4]),
        ("learner", "learner@example.com"),
    ]
    return summary


def _user(
    summary: SeedSummary,
    email: str,
    name: str,
    role: Role,
    *,
    company: Company | None = None,
    department: str | None = None,
) -> User:
    user = accounts.find_user(email)
    if user is None:
        user = accounts.create_user(
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            role=role,
            company=company,
            department=department,
            email_verified=True,
        )
        summary.count("users")
    return user


def _company(
    summary: SeedSummary,
    name: str,
    number: str,
    region: Region,
    size: CompanySize,
    contact_email: str,
    contact_name: str,
    *,
    approved: bool = True,
) -> Company:
    company = accounts.find_company(number)
    if company is None:
        company = accounts.create_company(
            name=name, business_number=number, region=region, size=size, approved=approved
        )
        summary.count("companies")
    _user(
        summary, contact_email, contact_name, Role.COMPANY, company=company, department="인사교육팀"
    )
    return company


def _courses(summary: SeedSummary, year: int, schedule: list, teachers: list[User]) -> None:
    existing = {
        (title, starts_at)
        for title, starts_at in db.session.execute(
            select(Course.title, Course.starts_at).where(Course.year == year)
        ).all()
    }
    for index, (month, day, key, region) in enumerate(schedule):
        subject = SUBJECTS[key]
        first_day = _weekday_on_or_after(date(year, month, day))
        starts_at = local_to_utc(datetime.combine(first_day, time(10, 0)))
        if (subject.title, starts_at) in existing:
            continue
        last_day = _weekday_on_or_after(first_day + timedelta(days=subject.days - 1))
        ends_at = local_to_utc(datetime.combine(last_day, time(17, 0)))
        if subject.hours <= 3:
            ends_at = local_to_utc(datetime.combine(first_day, time(13, 0)))
        courses.create_course(
            courses.CourseDetails(
                title=subject.title,
                summary=subject.summary,
                content=subject.content,
                audience=subject.audience,
                size_focus=subject.size_focus,
                format=subject.format,
                region=region,
                venue=VENUES[region],
                starts_at=starts_at,
                ends_at=ends_at,
                hours=subject.hours,
                capacity=subject.capacity,
                fee=subject.fee,
                instructor_ids=[teachers[index % len(teachers)].id],
                # Short online sessions skip the survey, so the demo has certificates to show.
                requires_survey=subject.format != CourseFormat.ONLINE,
            ),
            by=None,
        )
        summary.count("courses")


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


WORKSHOP_TITLE = "CP 실무자 심화 워크숍(소규모)"


def _workshop(summary: SeedSummary, today: date, teachers: list[User]) -> None:
    """A small upcoming course that fills up, so the demo shows a waiting list."""
    first_day = _weekday_on_or_after(today + timedelta(days=16))
    if first_day.year != today.year:
        return
    starts_at = local_to_utc(datetime.combine(first_day, time(14, 0)))
    exists = db.session.execute(
        select(Course.id).where(Course.title == WORKSHOP_TITLE, Course.year == first_day.year)
    ).first()
    if exists:
        return
    course = courses.create_course(
        courses.CourseDetails(
            title=WORKSHOP_TITLE,
            summary=(
                "자율준수무역거래자 지정 기업의 실무자가 내부 감사 사례를 함께 검토하는 "
                "소규모 워크숍입니다."
            ),
            content="1교시 내부 감사 체크리스트 검토\n2교시 기업별 사례 발표와 토론",
            audience=Audience.PRACTITIONERS,
            size_focus=SizeFocus.ALL,
            format=CourseFormat.CLASSROOM,
            region=Region.SEOUL,
            venue=VENUES[Region.SEOUL],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            hours=Decimal("3"),
            capacity=12,
            fee=0,
            instructor_ids=[teachers[1].id],
        ),
        by=None,
    )
    courses.publish_course(course, by=None)
    summary.count("courses")


def _history(
    summary: SeedSummary, year: int, learners: list[User], staff: User, today: date
) -> None:
    """Courses that already ran: their announcement, seat holders, attendance, completion."""
    past = (
        db.session.execute(
            select(Course)
            .where(Course.year == year, Course.status == CourseStatus.PUBLISHED)
            .where(Course.ends_at < local_to_utc(datetime.combine(today, time.min)))
            .order_by(Course.starts_at)
        )
        .scalars()
        .all()
    )
    for number, course in enumerate(past):
        if announcements.announcement_for(course.id) is None:
            item = announcements.ensure_announcement(course)
            lead = 5 if number % 9 == 4 else 14  # a few went out late, as in real life
            item.published_at = course.starts_at - timedelta(days=lead)
            item.late = lead < announcements.STANDARD_DAYS
        if db.session.execute(
            select(Enrollment.id).where(Enrollment.course_id == course.id)
        ).first():
            continue
        size = min(course.capacity, 8 + number % 7)
        holders = [learners[(number * 3 + k) % len(learners)] for k in range(size)]
        rows = [
            Enrollment(course_id=course.id, learner_id=learner.id, status=EnrollmentStatus.ENROLLED)
            for learner in holders
        ]
        db.session.add_all(rows)
        course.seats_taken = len(rows)
        db.session.commit()
        for session in attendance.sessions_of(course.id):
            marks = {
                row.id: (
                    AttendanceStatus.ABSENT
                    if (row.id + session.id) % 11 == 0
                    else AttendanceStatus.LATE
                    if (row.id + session.id) % 7 == 0
                    else AttendanceStatus.PRESENT
                )
                for row in rows
            }
            attendance.record_attendance(session, marks, by=staff)
        attendance.close_course(course, by=staff)
        summary.count("past courses with attendance")


def _upcoming_enrolments(summary: SeedSummary, learners: list[User]) -> None:
    upcoming = courses.upcoming_courses(limit=4)
    for number, course in enumerate(upcoming):
        taking = learners if course.title == WORKSHOP_TITLE else learners[number : number + 6]
        for learner in taking:
            if enrolment.find_enrollment(course.id, learner.id) is None:
                enrolment.enroll(course, learner, by=learner)
                summary.count("enrolments")


def _subscribers(summary: SeedSummary) -> None:
    for n in range(1, 6):
        email = f"newsletter{n}@example.com"
        if not db.session.execute(select(Subscriber.id).where(Subscriber.email == email)).first():
            db.session.add(
                Subscriber(email=email, token=secrets.token_urlsafe(32), confirmed_at=utcnow())
            )
            summary.count("newsletter subscribers")
    db.session.commit()


#: How the demo's learners answer: most courses land in the 80s, a few below the target.
COMMENTS = [
    "사례 중심이라 실무에 바로 적용할 수 있었습니다.",
    "판정 실습 시간이 조금 더 길었으면 좋겠습니다.",
    "강사님 설명이 명확했습니다. 심화 과정도 열어 주세요.",
    "교재가 최신 고시 개정 내용을 잘 반영하고 있었습니다.",
    "온라인 접속이 가끔 끊겼습니다.",
]


def _survey_history(summary: SeedSummary, year: int, today: date) -> None:
    """Post-course answers for the courses that ran, and the survey of each half-year that
    has ended."""
    rng = random.Random(year)
    template = surveys.current_template(SurveyKind.POST_COURSE)
    closed = (
        db.session.execute(
            select(Course)
            .where(Course.year == year, Course.closed_at.is_not(None))
            .order_by(Course.id)
        )
        .scalars()
        .all()
    )
    for number, course in enumerate(closed):
        if surveys.invite_course(course, notify=False) == 0:
            continue  # invited (and answered) on an earlier run
        weak = number % 8 == 5  # a course that misses the 80-point target
        for invitation in _open_invitations(course.id):
            if rng.random() < 0.15:
                continue  # some never answer
            answers = {}
            for question in template.questions:
                if question.type == QuestionType.LIKERT:
                    answers[question.id] = _likert(rng, weak)
                elif question.type == QuestionType.MULTIPLE:
                    answers[question.id] = rng.sample(
                        range(1, len(question.options) + 1), k=rng.randint(0, 2)
                    )
                elif question.type == QuestionType.TEXT:
                    answers[question.id] = rng.choice(COMMENTS) if rng.random() < 0.4 else ""
            surveys.submit(invitation, answers)
            summary.count("survey responses")
    for part, ended_on in (("H1", date(year, 7, 1)), ("H2", date(year + 1, 1, 1))):
        half = f"{year}{part}"
        if today < ended_on or not surveys.invite_half_yearly(half).invited:
            continue
        half_template = surveys.current_template(SurveyKind.HALF_YEARLY)
        helpful, usage, comment = half_template.questions
        for invitation in (
            db.session.execute(
                select(Invitation).where(Invitation.half == half, Invitation.answered_on.is_(None))
            )
            .scalars()
            .all()
        ):
            if rng.random() < 0.3:
                continue
            surveys.submit(
                invitation,
                {helpful.id: _likert(rng, False), usage.id: rng.randint(1, 5), comment.id: ""},
            )
            summary.count("half-yearly responses")


def _open_invitations(course_id: int) -> list[Invitation]:
    return list(
        db.session.execute(
            select(Invitation)
            .where(Invitation.course_id == course_id, Invitation.answered_on.is_(None))
            .order_by(Invitation.id)
        ).scalars()
    )


def _likert(rng: random.Random, weak: bool) -> int:
    weights = (2, 6, 22, 40, 30) if weak else (0, 2, 8, 42, 48)
    return rng.choices((1, 2, 3, 4, 5), weights=weights)[0]


ONSITE_DEMO = [
    # (company index, title, confirmed sign-ups, submit?)
    (0, "연구소 대상 전략물자 판정 실무", 7, False),
    (1, "화학물질 상황허가와 CP 운영 실무", 12, True),
]


def _onsite_requests(summary: SeedSummary, companies: list[Company]) -> None:
    """One request still gathering sign-ups (7 / 10), one submitted and waiting for staff."""
    for index, title, confirmed, submit in ONSITE_DEMO:
        company = companies[index]
        if visits.requests_of(company.id):
            continue
        contact = (
            db.session.execute(
                select(User).where(User.company_id == company.id, User.role == Role.COMPANY)
            )
            .scalars()
            .first()
        )
        request = visits.create_request(
            visits.RequestDetails(
                title=title,
                content=(
                    "자사 제품 사례로 실습하는 방식을 원합니다. "
                    "신규 담당자가 많아 기초부터 다뤄 주세요."
                ),
                topics=["전략물자 판정 실무"],
                preferred_dates=["다음 달 둘째 주 수요일", "다음 달 셋째 주 목요일"],
                address=f"{company.name} 본사 대회의실",
                region=company.region,
                audience=Audience.PRACTITIONERS,
                expected_headcount=15,
                venue_capacity=30,
                contact_name=contact.name,
                contact_phone="02-555-0100",
                contact_email=contact.email,
            ),
            by=contact,
        )
        visits.open_signups(request, by=contact)
        for n in range(confirmed):
            signup = visits.sign_up(
                request,
                name=f"{company.name} 직원{n + 1}",
                email=f"staff{n + 1}@{company.business_number}.example.com",
                department="연구소" if n % 2 else "수출관리팀",
                user=None,
            )
            visits.confirm_signup(signup.confirm_token)
        if submit:
            visits.submit(request, by=contact)
        summary.count("on-site requests")


def _mentoring_and_meetings(
    summary: SeedSummary, companies: list[Company], teachers: list[User], staff: User, today: date
) -> None:
    """A CP mentoring case under way, and the year's instructor meetings."""
    company = companies[2]
    if not db.session.execute(
        select(MentoringCase.id).where(MentoringCase.company_id == company.id)
    ).first():
        contact = (
            db.session.execute(
                select(User).where(User.company_id == company.id, User.role == Role.COMPANY)
            )
            .scalars()
            .first()
        )
        case = mentoring.apply(
            mentoring.Application(
                cp_status=CpStatus.BUILDING,
                needs=[MentoringNeed.CRITERIA, MentoringNeed.SYSTEM],
                preferred_dates="화·목요일 오후",
                contact_name=contact.name,
                contact_phone="042-555-0100",
                contact_email=contact.email,
            ),
            by=contact,
        )
        mentoring.assign(case, teachers[3], by=staff)
        mentoring.log_visit(
            case,
            visited_on=today - timedelta(days=21),
            attendees="대표이사, 수출관리팀장, 연구소장",
            topics="자율준수 방침과 조직 구성 현황 점검\n전략물자 판정 절차 검토",
            findings="판정 결과를 기록하는 대장이 없고 거래 심사 기준이 문서화되어 있지 않음",
            actions=[
                ("판정 대장 양식 도입", today - timedelta(days=2)),
                ("거래 심사 체크리스트 초안 작성", today + timedelta(days=20)),
            ],
            by=teachers[3],
        )
        rows = mentoring.checklist(case)
        mentoring.update_checklist(
            case,
            {
                rows[0][0].id: (ChecklistStatus.DONE, "방침 공표 완료"),
                rows[1][0].id: (ChecklistStatus.IN_PROGRESS, "담당 조직 신설 예정"),
                rows[2][0].id: (ChecklistStatus.IN_PROGRESS, ""),
            },
            by=teachers[3],
        )
        summary.count("mentoring cases")
    if not meetings.all_meetings():
        meetings.save(
            meetings.MeetingRecord(
                held_on=date(today.year, 6, 24),
                title=f"{today.year}년 상반기 강사 간담회",
                attendee_ids=[teacher.id for teacher in teachers] + [staff.id],
                agenda="상반기 과정 만족도 결과 공유\n판정 실습 교재 개정",
                minutes="실습 시간이 부족하다는 의견이 많아 실습 비중을 늘리기로 함",
                decisions="판정 실무 과정의 실습 비중을 50%로 확대",
            ),
            by=staff,
        )
        meetings.save(
            meetings.MeetingRecord(
                held_on=date(today.year, 12, 18),
                title=f"{today.year}년 하반기 강사 간담회",
                attendee_ids=[teacher.id for teacher in teachers] + [staff.id],
                agenda="하반기 만족도 결과와 내년 교육일정 검토",
            ),
            by=staff,
        )
        summary.count("instructor meetings")


def _last_year(
    summary: SeedSummary, today: date, learners: list[User], staff: User, teachers: list[User]
) -> None:
    """Last year as it ran (calendar, courses, attendance, surveys, materials, meetings) and
    its service-standards report, published in January."""
    year = today.year - 1
    _courses(summary, year, SCHEDULE, teachers)
    if not courses.calendar_is_public(year):
        courses.publish_calendar(year, by=staff, at=local_to_utc(datetime(year, 1, 9, 10, 0)))
        summary.count("published calendars")
    _history(summary, year, learners, staff, today)
    materials_until = local_to_utc(datetime(year, 12, 31, 12, 0))
    for _material in range(materials.seed_demo(year, by=staff, today_utc=materials_until)):
        summary.count("course materials")
    _survey_history(summary, year, today)
    if not meetings.meeting_standard(year, today=today).held:
        for held_on, title in ((date(year, 6, 19), "상반기"), (date(year, 12, 11), "하반기")):
            meetings.save(
                meetings.MeetingRecord(
                    held_on=held_on,
                    title=f"{year}년 {title} 강사 간담회",
                    attendee_ids=[teacher.id for teacher in teachers] + [staff.id],
                    agenda="만족도 결과 공유와 교재 개정 논의",
                ),
                by=staff,
            )
    if standards.published_report(year) is None:
        published_on = min(local_to_utc(datetime(year + 1, 1, 20, 10, 0)), utcnow())
        standards.publish(year, by=staff, now=published_on)
        summary.count("published standards reports")
