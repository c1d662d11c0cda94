"""Demo items of the voice desk, in every state (called by `app.demo.seed`; idempotent)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Protocol

from sqlalchemy import func, select

from app.core.accounts.models import User
from app.core.extensions import db
from app.core.timeutil import is_working_day, local_to_utc, to_local, utcnow
from voice import services
from voice.models import ProposalOutcome, VoiceItem, VoiceKind


class Summary(Protocol):
    def count(self, kind: str) -> None: ...


def _working_day_at(now: datetime, days_back: int, hour: int, minute: int = 0) -> datetime:
    """A working day at least `days_back` days before `now`, at this local time (UTC)."""
    day = to_local(now).date() - timedelta(days=days_back)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return local_to_utc(datetime.combine(day, time(hour, minute)))


def seed(summary: Summary, *, staff: User, learner: User, now: datetime | None = None) -> None:
    if db.session.execute(select(func.count()).select_from(VoiceItem)).scalar_one():
        return
    now = now or utcnow()

    def file(kind, subject, message, name, email, at, *, user=None, phone=None):
        filing = services.Filing(
            kind=kind,
            subject=subject,
            message=message,
            name=name,
            email=email,
            phone=phone,
            consent=True,
        )
        summary.count("voice items")
        return services.file_item(filing, user=user, now=at)

    # An inquiry answered the same day.
    filed = _working_day_at(now, 12, 10, 20)
    item = file(
        VoiceKind.INQUIRY,
        "수료증 재발급 문의",
        "작년에 받은 수료증을 잃어버렸습니다. 재발급받을 수 있을까요?",
        "정하늘",
        "haneul.jung@daon.example.com",
        filed,
        phone="010-2233-4455",
    )
    services.reply(
        item,
        "내 페이지(/me)의 수료증 목록에서 언제든 다시 내려받으실 수 있습니다. "
        "계정이 없으시면 가입 후 같은 이메일로 연결됩니다.",
        interim=False,
        by=staff,
        now=filed + timedelta(hours=3),
    )
    services.close(item, by=staff, now=filed + timedelta(days=2))

    # An inquiry answered late.
    filed = _working_day_at(now, 9, 16, 10)
    item = file(
        VoiceKind.INQUIRY,
        "교육장 주차 가능 여부",
        "다음 달 판정 실무 과정에 참석합니다. 교육장에 주차할 수 있나요?",
        "문서연",
        "seoyeon.moon@hanbit.example.com",
        filed,
    )
    services.reply(
        item,
        "교육장 건물에는 주차 공간이 없어 인근 공영주차장을 이용하셔야 합니다. "
        "답변이 늦어 죄송합니다.",
        interim=False,
        by=staff,
        now=filed + timedelta(days=1, hours=18),
    )

    # An interim reply: the full answer follows.
    filed = _working_day_at(now, 2, 11, 0)
    item = file(
        VoiceKind.INQUIRY,
        "맞춤형 방문교육 비용 문의",
        "직원 15명 대상 방문교육을 검토 중입니다. 비용 기준을 알 수 있을까요?",
        "배지훈",
        "jihoon.bae@nuri.example.com",
        filed,
    )
    services.reply(
        item,
        "문의 감사합니다. 비용은 교육 내용과 지역에 따라 달라 담당 부서 확인 후 "
        "내일까지 자세히 안내드리겠습니다.",
        interim=True,
        by=staff,
        now=filed + timedelta(minutes=50),
    )

    # A proposal, reviewed and the decision reported.
    filed = _working_day_at(now, 20, 14, 30)
    item = file(
        VoiceKind.PROPOSAL,
        "온라인 과정 자막 제공 제안",
        "온라인 기본과정 영상에 자막이 있으면 사무실에서도 듣기 편할 것 같습니다.",
        "한예린",
        "yerin.han@daon.example.com",
        filed,
    )
    services.reply(
        item,
        "좋은 제안 감사합니다. 검토 후 결과를 알려드리겠습니다.",
        interim=False,
        by=staff,
        now=filed + timedelta(hours=1),
    )
    services.resolve(
        item,
        "내년 1분기부터 온라인 기본과정 전 강의에 한국어 자막을 제공하기로 했습니다.",
        outcome=ProposalOutcome.ACCEPTED,
        by=staff,
        now=filed + timedelta(days=6),
    )

    # A complaint of the demo learner, corrected and the measures reported.
    filed = _working_day_at(now, 15, 9, 40)
    item = file(
        VoiceKind.COMPLAINT,
        "교육 자료 배부 누락",
        "지난 과정에서 교재를 받지 못했습니다. 현장에 남은 교재가 없다고 들었습니다.",
        learner.name,
        learner.email,
        filed,
        user=learner,
        phone=learner.phone,
    )
    services.reply(
        item,
        "불편을 드려 죄송합니다. 경위를 확인하고 있습니다.",
        interim=True,
        by=staff,
        now=filed + timedelta(hours=2),
    )
    services.resolve(
        item,
        "교재를 우편으로 발송했고, 앞으로는 신청 인원보다 10% 많은 교재를 준비하며 "
        "과정 자료를 온라인으로도 내려받을 수 있게 했습니다.",
        by=staff,
        now=filed + timedelta(days=3),
    )

    # Open, overdue, from someone without an account.
    file(
        VoiceKind.INQUIRY,
        "수출통제 설명회 일정 문의",
        "부산 지역 중소기업 대상 설명회가 올해 또 열리나요?",
        "익명 문의자",
        "visitor@mail.example.com",
        now - timedelta(days=5),
    )

    # Open and on time.
    file(
        VoiceKind.INQUIRY,
        "대기자 순번 확인",
        "이중용도품목 판정 과정 대기자로 등록했습니다. 몇 번째인지 알 수 있을까요?",
        "오하린",
        "harin.oh@hanbit.example.com",
        now - timedelta(minutes=20),
    )
    db.session.commit()
