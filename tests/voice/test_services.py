"""The voice desk's rules: the SLA clock at its edges, replies, decisions and corrective
actions reported by mail, the audit trail, and the year's figures."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from app.core.accounts.models import Role
from app.core.audit import AuditEntry
from app.core.extensions import db
from app.core.outbox import OutboxMessage
from app.core.timeutil import local_to_utc, to_local
from tests.factories import make_user
from voice import services
from voice.models import ClockState, ProposalOutcome, VoiceKind, VoiceState

BASE_URL = "https://edu.example.org"
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # 삼일절 (Monday 1 March 2027) and 어린이날 (Wednesday 5 May 2027) as public holidays.
    return {**app_config, "BASE_URL": BASE_URL, "PUBLIC_HOLIDAYS": ["2027-03-01", "2027-05-05"]}


def kst(*parts: int) -> datetime:
    return local_to_utc(datetime(*parts))


def due(*parts: int) -> datetime:
    return to_local(services.response_due_at(kst(*parts))).replace(tzinfo=None)


END = (23, 59, 59, 999999)


# --- The SLA rule -----------------------------------------------------------------------


def test_filed_on_a_working_day_before_the_cutoff_is_due_the_same_day() -> None:
    assert due(2027, 3, 8, 9, 0) == datetime(2027, 3, 8, *END)  # Monday 09:00
    assert due(2027, 3, 8, 16, 59) == datetime(2027, 3, 8, *END)


def test_filed_after_the_cutoff_the_24_hour_rule_is_the_stricter() -> None:
    # Monday 17:00: the next working day's end would be Tuesday 24:00; 24 h is Tuesday 17:00.
    assert due(2027, 3, 8, 17, 0) == datetime(2027, 3, 9, 17, 0)
    assert due(2027, 3, 8, 22, 30) == datetime(2027, 3, 9, 22, 30)


def test_friday_evening_is_due_monday_the_weekend_hours_do_not_run() -> None:
    # Friday 18:00: 6 h of Friday and 18 h of Monday; not Saturday 18:00, not Monday 24:00.
    assert due(2027, 3, 12, 18, 0) == datetime(2027, 3, 15, 18, 0)


def test_filed_on_a_weekend_is_due_by_the_end_of_the_next_working_day() -> None:
    assert due(2027, 3, 13, 10, 0) == datetime(2027, 3, 15, *END)  # Saturday
    assert due(2027, 3, 14, 23, 0) == datetime(2027, 3, 15, *END)  # Sunday


def test_a_configured_public_holiday_is_not_a_working_day() -> None:
    # Friday 26 Feb 18:00, then the weekend and 삼일절: due Tuesday 2 March 18:00.
    assert due(2027, 2, 26, 18, 0) == datetime(2027, 3, 2, 18, 0)
    assert due(2027, 3, 1, 10, 0) == datetime(2027, 3, 2, *END)  # filed on the holiday
    # Tuesday 4 May 17:30, 어린이날 on Wednesday: due Thursday 17:30.
    assert due(2027, 5, 4, 17, 30) == datetime(2027, 5, 6, 17, 30)


def test_without_configured_holidays_a_weekday_holiday_counts_as_a_working_day(app) -> None:
    app.config["PUBLIC_HOLIDAYS"] = []
    assert due(2027, 3, 1, 10, 0) == datetime(2027, 3, 1, *END)


# --- Filing, replies and the clock -------------------------------------------------------


def filing(kind: VoiceKind = VoiceKind.INQUIRY, **changes) -> services.Filing:
    values = {
        "kind": kind,
        "subject": "수료증 재발급 문의",
        "message": "수료증을 잃어버렸습니다.",
        "name": "정하늘",
        "email": "haneul@example.com",
        "consent": True,
    }
    return services.Filing(**{**values, **changes})


def file_at(when: datetime, kind: VoiceKind = VoiceKind.INQUIRY, **changes):
    item = services.file_item(filing(kind, **changes), user=None, now=when)
    db.session.commit()
    return item


def mails(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        ).scalars()
    )


def actions(item) -> list[str]:
    return list(
        db.session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "voice_item", AuditEntry.object_id == str(item.id))
            .order_by(AuditEntry.id)
        ).scalars()
    )


def test_filing_mails_the_follow_link_built_from_base_url(app) -> None:
    item = file_at(kst(2027, 3, 8, 10, 0))
    (mail,) = mails("voice_received")
    assert mail.to_address == "haneul@example.com"
    assert f"{BASE_URL}/voice/{item.token}" in mail.body
    assert len(item.token) == 32 and item.state == VoiceState.RECEIVED
    assert item.due_at == kst(2027, 3, 8, 23, 59, 59, 999999)


def test_filing_without_consent_is_refused(app) -> None:
    with pytest.raises(services.VoiceError) as refused:
        services.file_item(filing(consent=False), user=None)
    assert refused.value.field == "consent"


def test_a_first_reply_by_the_due_time_is_on_time_and_mails_the_signed_reply(app) -> None:
    staff = make_user(Role.STAFF, name="박지원", email="jiwon@example.com", phone="02-123-4567")
    item = file_at(kst(2027, 3, 8, 10, 0))
    assert services.clock(item, now=kst(2027, 3, 8, 12, 0)).state == ClockState.ON_TIME
    assert services.clock(item, now=kst(2027, 3, 8, 22, 0)).state == ClockState.DUE_SOON
    services.reply(
        item,
        "마이페이지에서 내려받을 수 있습니다.",
        interim=False,
        by=staff,
        now=kst(2027, 3, 8, 15, 0),
    )
    db.session.commit()
    assert item.state == VoiceState.ANSWERED and item.assignee_id == staff.id
    assert services.clock(item).state == ClockState.MET
    (mail,) = mails("voice_reply")
    assert not mail.auto_generated
    assert "마이페이지에서 내려받을 수 있습니다." in mail.body
    assert "박지원 · jiwon@example.com · 02-123-4567" in mail.body
    assert f"{BASE_URL}/voice/{item.token}" in mail.body
    assert actions(item) == ["voice.reply"]


def test_a_reply_after_the_due_time_is_late_and_an_unanswered_item_turns_overdue(app) -> None:
    staff = make_user(Role.STAFF)
    late = file_at(kst(2027, 3, 8, 16, 0))
    services.reply(late, "늦어 죄송합니다.", interim=False, by=staff, now=kst(2027, 3, 9, 9, 0))
    waiting = file_at(kst(2027, 3, 8, 16, 0))
    db.session.commit()
    assert services.clock(late).state == ClockState.LATE
    overdue = services.clock(waiting, now=kst(2027, 3, 9, 3, 0))
    assert overdue.state == ClockState.OVERDUE
    assert overdue.label == "3시간 초과"


def test_an_interim_reply_stops_the_clock_and_keeps_the_item_in_progress(app) -> None:
    staff = make_user(Role.STAFF)
    item = file_at(kst(2027, 3, 8, 16, 30))
    services.reply(
        item, "확인 후 내일 답변드리겠습니다.", interim=True, by=staff, now=kst(2027, 3, 8, 16, 45)
    )
    db.session.commit()
    assert item.state == VoiceState.IN_PROGRESS
    assert item.first_reply_at == kst(2027, 3, 8, 16, 45)
    assert services.clock(item, now=kst(2027, 3, 20, 0, 0)).state == ClockState.MET
    assert "중간 답변" in mails("voice_reply")[0].body
    services.reply(
        item, "비용은 1인당 3만원입니다.", interim=False, by=staff, now=kst(2027, 3, 10, 10, 0)
    )
    db.session.commit()
    assert item.state == VoiceState.ANSWERED
    assert item.first_reply_at == kst(2027, 3, 8, 16, 45)  # the first one counts


def test_a_proposals_decision_is_mailed_to_the_filer_and_closes_it(app) -> None:
    staff = make_user(Role.STAFF, name="박지원")
    item = file_at(kst(2027, 3, 8, 10, 0), VoiceKind.PROPOSAL, subject="자막 제공 제안")
    with pytest.raises(services.VoiceError) as refused:
        services.resolve(item, "검토했습니다.", by=staff)
    assert refused.value.field == "outcome"
    services.resolve(
        item,
        "내년부터 자막을 제공합니다.",
        outcome=ProposalOutcome.PARTLY,
        by=staff,
        now=kst(2027, 3, 12, 10, 0),
    )
    db.session.commit()
    assert item.state == VoiceState.CLOSED and item.resolved_at == kst(2027, 3, 12, 10, 0)
    (mail,) = mails("voice_resolved")
    assert mail.to_address == "haneul@example.com"
    assert "부분 수용" in mail.body and "내년부터 자막을 제공합니다." in mail.body
    assert f"{BASE_URL}/voice/{item.token}" in mail.body
    assert "담당: 박지원" in mail.body
    assert actions(item) == ["voice.resolve"]
    audit = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "voice.resolve")
    ).scalar_one()
    assert audit.actor_id == staff.id and audit.details["outcome"] == "partly"


def test_a_complaints_corrective_action_is_mailed_and_an_inquiry_has_none(app) -> None:
    staff = make_user(Role.STAFF)
    complaint = file_at(kst(2027, 3, 8, 10, 0), VoiceKind.COMPLAINT, subject="교재 누락")
    services.resolve(complaint, "교재를 우편으로 보냈습니다.", by=staff)
    db.session.commit()
    (mail,) = mails("voice_resolved")
    assert "조치 내용" in mail.body and "교재를 우편으로 보냈습니다." in mail.body
    assert complaint.outcome is None and complaint.first_reply_at is not None
    inquiry = file_at(kst(2027, 3, 8, 10, 0))
    with pytest.raises(services.VoiceError):
        services.resolve(inquiry, "답변", by=staff)


def test_assigning_and_closing_are_audited_and_an_unanswered_item_cannot_close(app) -> None:
    staff, colleague = make_user(Role.STAFF), make_user(Role.STAFF)
    item = file_at(kst(2027, 3, 8, 10, 0))
    services.assign(item, colleague, by=staff)
    with pytest.raises(services.VoiceError):
        services.close(item, by=staff)
    with pytest.raises(services.VoiceError):
        services.assign(item, make_user(Role.LEARNER), by=staff)
    services.reply(item, "답변", interim=False, by=colleague, now=kst(2027, 3, 8, 11, 0))
    services.close(item, by=colleague)
    db.session.commit()
    assert item.assignee_id == colleague.id and item.state == VoiceState.CLOSED
    assert actions(item) == ["voice.assign", "voice.reply", "voice.close"]
    with pytest.raises(services.VoiceError):
        services.reply(item, "또", interim=False, by=staff)


def test_the_filers_follow_up_reopens_an_answered_inquiry(app) -> None:
    staff = make_user(Role.STAFF)
    item = file_at(kst(2027, 3, 8, 10, 0))
    services.reply(item, "답변", interim=False, by=staff, now=kst(2027, 3, 8, 11, 0))
    services.add_follow_up(
        item, "추가로 궁금한 점이 있습니다.", user=None, now=kst(2027, 3, 8, 12, 0)
    )
    db.session.commit()
    assert item.state == VoiceState.IN_PROGRESS
    assert [m.from_staff for m in services.thread(item)] == [True, False]


# --- The queue and the year's figures ------------------------------------------------------


def test_the_queue_shows_open_items_first_by_due_time_and_filters(app) -> None:
    staff = make_user(Role.STAFF)
    later = file_at(kst(2027, 3, 8, 18, 0), subject="나중")  # due Tue 18:00
    sooner = file_at(kst(2027, 3, 8, 10, 0), subject="먼저")  # due Mon 24:00
    proposal = file_at(kst(2027, 3, 8, 9, 0), VoiceKind.PROPOSAL, subject="제안")
    answered = file_at(kst(2027, 3, 8, 8, 0), subject="답변됨")
    services.reply(answered, "답변", interim=False, by=staff, now=kst(2027, 3, 8, 9, 0))
    closed = file_at(kst(2027, 3, 8, 8, 0), subject="종결")
    services.reply(closed, "답변", interim=False, by=staff, now=kst(2027, 3, 8, 9, 0))
    services.close(closed, by=staff)
    db.session.commit()
    now = kst(2027, 3, 9, 8, 0)
    page = services.queue_page(services.QueueFilter(), now=now)
    # Unanswered by due time (the same due time: filed first, first), then the answered.
    assert [i.subject for i in page.items] == ["먼저", "제안", "나중", "답변됨"]
    overdue = services.queue_page(services.QueueFilter(clock=ClockState.OVERDUE), now=now)
    assert [i.id for i in overdue.items] == [sooner.id, proposal.id]
    kinds = services.queue_page(services.QueueFilter(kind=VoiceKind.PROPOSAL), now=now)
    assert [i.id for i in kinds.items] == [proposal.id]
    shut = services.queue_page(services.QueueFilter(state=VoiceState.CLOSED), now=now)
    assert [i.id for i in shut.items] == [closed.id]
    assert later.id in {i.id for i in page.items}
    assert services.open_counts(now=now) == services.VoiceCounts(open=4, overdue=2)
    small = services.queue_page(services.QueueFilter(), number=99, size=3, now=now)
    assert small.number == 2 and len(small.items) == 1


def test_voice_standard_counts_a_year_of_known_items(app) -> None:
    staff = make_user(Role.STAFF)
    now = kst(2027, 12, 31, 12, 0)
    # Four replied: two in time (1 h, 3 h), one late (25 h), one interim in time (2 h).
    a = file_at(kst(2027, 3, 8, 10, 0))
    services.reply(a, "r", interim=False, by=staff, now=kst(2027, 3, 8, 11, 0))
    b = file_at(kst(2027, 3, 9, 10, 0))
    services.reply(b, "r", interim=False, by=staff, now=kst(2027, 3, 9, 13, 0))
    c = file_at(kst(2027, 3, 10, 10, 0))
    services.reply(c, "r", interim=False, by=staff, now=kst(2027, 3, 11, 11, 0))
    d = file_at(kst(2027, 3, 11, 10, 0))
    services.reply(d, "r", interim=True, by=staff, now=kst(2027, 3, 11, 12, 0))
    # A proposal decided (first word: the decision, 50 h, late), one still undecided (open
    # and overdue); a complaint corrected in 4 h; one due after `now` (on time).
    p = file_at(kst(2027, 4, 5, 10, 0), VoiceKind.PROPOSAL)
    services.resolve(
        p, "수용", outcome=ProposalOutcome.ACCEPTED, by=staff, now=kst(2027, 4, 7, 12, 0)
    )
    file_at(kst(2027, 4, 6, 10, 0), VoiceKind.PROPOSAL)
    k = file_at(kst(2027, 5, 3, 10, 0), VoiceKind.COMPLAINT)
    services.resolve(k, "조치", by=staff, now=kst(2027, 5, 3, 14, 0))
    file_at(kst(2027, 12, 31, 11, 0))
    # Another year: not counted.
    file_at(kst(2026, 12, 31, 23, 0))
    file_at(kst(2028, 1, 1, 0, 30))
    db.session.commit()

    figures = services.voice_standard(2027, now=now)
    assert figures == services.VoiceStandard(
        year=2027,
        inquiries=8,
        answered_in_time=4,
        answered_late=2,
        open_overdue=1,
        open_on_time=1,
        median_response_hours=3.5,  # 1, 2, 3, 4, 25, 50
        proposals=2,
        proposals_reported=1,
        complaints=1,
        complaints_reported=1,
    )
    assert figures.in_time_rate == round(100 * 4 / 7, 1)
    assert services.voice_standard(2030, now=now).in_time_rate is None


def test_purge_scrubs_old_closed_items_once_and_keeps_their_figures(app) -> None:
    staff = make_user(Role.STAFF)
    old = file_at(kst(2020, 3, 9, 10, 0), phone="010-1111-2222")
    services.reply(old, "답변 정하늘님", interim=False, by=staff, now=kst(2020, 3, 9, 11, 0))
    services.close(old, by=staff, now=kst(2020, 3, 10, 10, 0))
    recent = file_at(kst(2027, 3, 8, 10, 0))
    services.reply(recent, "답변", interim=False, by=staff, now=kst(2027, 3, 8, 11, 0))
    services.close(recent, by=staff, now=kst(2027, 3, 9, 10, 0))
    db.session.commit()
    now = kst(2027, 6, 1, 0, 0)
    assert services.purge(now=now) == 1
    assert services.purge(now=now) == 0
    db.session.commit()
    db.session.expire_all()
    assert (old.name, old.email, old.phone, old.subject) == (
        "(삭제됨)",
        "erased@deleted.invalid",
        None,
        "(삭제됨)",
    )
    assert [m.body for m in services.thread(old)] == ["(삭제됨)"]
    assert old.first_reply_at == kst(2020, 3, 9, 11, 0) and old.kind == VoiceKind.INQUIRY
    assert recent.name == "정하늘"
    assert services.voice_standard(2020, now=now).answered_in_time == 1


def test_the_purge_command_is_idempotent(app) -> None:
    staff = make_user(Role.STAFF)
    old = file_at(kst(2020, 3, 9, 10, 0))
    services.reply(old, "답변", interim=False, by=staff, now=kst(2020, 3, 9, 11, 0))
    services.close(old, by=staff, now=kst(2020, 3, 10, 10, 0))
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["voice", "purge", "--older-than-days", "30"])
    assert first.exit_code == 0, first.output
    assert re.search(r"scrubbed: 1\.", first.output)
    second = runner.invoke(args=["voice", "purge", "--older-than-days", "30"])
    assert re.search(r"scrubbed: 0\.", second.output)
    assert runner.invoke(args=["voice", "purge", "--older-than-days", "0"]).exit_code != 0
