"""Erasure on request (standard 10): finding a person's name, e-mail address and phone
number wherever the system copied them, and replacing them with a placeholder.

The person's own rows are cleared field by field by the feature that owns them; this
module handles the copies inside *other* rows (a mail to a colleague naming them, an audit
entry, a mentoring note). What counts as a mention, so that erasing one person never
blanks unrelated text:

- **E-mail address**: the whole address, in any letter case, not glued to a longer address.
- **Local part on its own** ("hong.unique" without "@example.com"): only when it is at least
  `MIN_LOCAL_PART` characters long *and* holds a digit or one of ``. _ - +``. Such a
  handle names one person; a plain word such as "training" or "sales" (a shared mailbox)
  would blank ordinary text, so it is left alone.
- **Name**: verbatim, in any letter case, when it has at least `MIN_NAME` characters (a
  Korean name is two to four syllables: a single character such as "김" or "A" occurs in
  countless unrelated words). It must not be glued to Latin letters or digits ("Kim" is not
  found in "Kimchi") nor be part of another e-mail address. Hangul may follow a name of
  `DISTINCT_NAME` characters or more, as Korean attaches particles and titles
  ("홍길동님", "홍길동에게"); a shorter name must stand alone or take one of the common
  particles and titles (`_SUFFIXES`), so that "김수" is found in "김수님" but not in "김수출".
  Spaces inside a name match any run of white space.
- **Phone**: at least `MIN_PHONE_DIGITS` digits, with an optional space, dot or hyphen
  between any two (the last four excepted: every Korean number ends in a group of four),
  not inside a longer number; a leading 0 may also be written +82 ("+82 10-9876-5432").

Rows are found in the database first with LIKE on a short fragment every mention holds
(the local part, the name, the phone's last four digits, also as JSON escapes them), so an
erasure reads only the candidate rows, not whole tables; the exact rules above then decide
in Python.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, Text, cast, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.core.accounts.models import DELETED_NAME, User
from app.core.extensions import db

MIN_NAME = 2
DISTINCT_NAME = 3
MIN_LOCAL_PART = 6
MIN_PHONE_DIGITS = 7
#: Where an erased person's address was a required field (a contact, a mail's recipient).
ERASED_ADDRESS = "erased@deleted.invalid"

_NOT_LATIN_BEFORE = r"(?<![A-Za-z0-9@])"
#: Nor the start of another e-mail address ("kim" in "kim.lee@example.org").
_NOT_IN_ADDRESS_AFTER = r"(?![A-Za-z0-9]|[A-Za-z0-9._%+-]*@)"
_ADDRESS_CHAR = r"[A-Za-z0-9._%+-]"


@dataclass(frozen=True)
class Person:
    """What identifies one person in free text, and what replaces it there."""

    name: str
    email: str
    phone: str | None
    #: Points at the pseudonymised account: "탈퇴 회원 #17".
    placeholder: str
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", _pattern(self.name, self.email, self.phone))

    @classmethod
    def of(cls, user: User) -> Person:
        """The person behind an account, read before the account is pseudonymised."""
        return cls(
            name=user.name,
            email=user.email,
            phone=user.phone,
            placeholder=f"{DELETED_NAME} #{user.id}",
        )

    @property
    def phone_digits(self) -> str:
        return re.sub(r"\D", "", self.phone or "")

    def is_email(self, address: str | None) -> bool:
        return bool(address) and address.strip().lower() == self.email.strip().lower()

    def is_phone(self, phone: str | None) -> bool:
        digits = re.sub(r"\D", "", phone or "")
        return len(digits) >= MIN_PHONE_DIGITS and digits == self.phone_digits

    def is_name(self, name: str | None) -> bool:
        return bool(name) and " ".join(name.split()).lower() == " ".join(self.name.split()).lower()

    def mentioned_in(self, text: str | None) -> bool:
        return bool(text) and self._pattern is not None and bool(self._pattern.search(text))

    def scrub(self, text: str | None) -> str | None:
        """The text with every mention of the person replaced by the placeholder."""
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(self.placeholder, text)

    def scrub_json(self, value: Any) -> Any:
        """A JSON value with every string in it (keys too) scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(item) for item in value]
        if isinstance(value, dict):
            return {self.scrub(key): self.scrub_json(item) for key, item in value.items()}
        return value

    def fragments(self) -> set[str]:
        """Lower-case substrings of which every mention holds one (for the LIKE prefilter),
        as written and as JSON escapes them (non-ASCII as \\uXXXX)."""
        plain = {self.email.partition("@")[0].lower()}
        if len(self.name.strip()) >= MIN_NAME:
            plain.add(self.name.split()[0].lower())
        if len(self.phone_digits) >= MIN_PHONE_DIGITS:
            plain.add(self.phone_digits[-4:])
        escaped = {json.dumps(fragment)[1:-1].lower() for fragment in plain}
        return {fragment for fragment in plain | escaped if fragment}


#: What may follow a short name in Korean text: particles and titles ("김수님", "김수 과장").
_SUFFIXES = [
    "님",
    "씨",
    "께",
    "에게",
    "한테",
    "이",
    "가",
    "은",
    "는",
    "을",
    "를",
    "의",
    "와",
    "과",
    "도",
    "만",
    "으로",
    "로",
    "에",
    "입니다",
    "강사",
    "과장",
    "대리",
    "부장",
    "차장",
    "팀장",
    "주임",
    "사원",
    "선생",
    "대표",
    "이사",
]
#: A short name is not part of a longer Hangul word: "김수" is not found in "김수출".
_HANGUL_BEFORE = r"(?<![가-힣])"
_HANGUL_AFTER = r"(?:(?![가-힣])|(?=(?:" + "|".join(_SUFFIXES) + r")))"


def _pattern(name: str, email: str, phone: str | None) -> re.Pattern[str] | None:
    alternatives = [
        rf"(?<!{_ADDRESS_CHAR}){re.escape(email.strip())}(?![A-Za-z0-9_-]|\.[A-Za-z0-9])"
    ]
    local = email.strip().partition("@")[0]
    if len(local) >= MIN_LOCAL_PART and re.search(r"[0-9._+-]", local):
        alternatives.append(rf"(?<!{_ADDRESS_CHAR}){re.escape(local)}(?![A-Za-z0-9_%+-])")
    if len(name.strip()) >= MIN_NAME:
        words = r"\s+".join(re.escape(word) for word in name.split())
        if len(name.strip()) < DISTINCT_NAME:
            words = _HANGUL_BEFORE + words + _HANGUL_AFTER
        alternatives.append(_NOT_LATIN_BEFORE + words + _NOT_IN_ADDRESS_AFTER)
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= MIN_PHONE_DIGITS:
        head, last = digits[:-4], digits[-4:]  # the last four stay together (see fragments)
        prefix = r"(?:\+82[\s.\-]?|0)" if head.startswith("0") else ""
        number = r"[\s.\-]?".join(head[1:] if prefix else head) + r"[\s.\-]?" + last
        alternatives.append(rf"(?<![\d+]){prefix}{number}(?!\d)")
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def candidates(columns: list[InstrumentedAttribute[Any]], person: Person) -> ColumnElement[bool]:
    """SQL condition: some column holds a fragment of a mention (a superset of the rows the
    exact rules match)."""
    return or_(
        *(
            func.lower(cast(column, Text)).contains(fragment, autoescape=True)
            for column in columns
            for fragment in person.fragments()
        )
    )


def scrub_columns(model: type[db.Model], columns: list[str], person: Person) -> int:
    """Replace the person's mentions in these text or JSON columns of every row of `model`;
    returns the number of rows changed. Rows are written with a plain UPDATE by key."""
    table: Table = model.__table__
    keys = list(table.primary_key.columns)
    rows = db.session.execute(
        select(*keys, *(table.c[name] for name in columns)).where(
            candidates([getattr(model, name) for name in columns], person)
        )
    ).all()
    changed = 0
    for row in rows:
        values = _scrubbed(dict(zip(columns, row[len(keys) :], strict=True)), person)
        if values:
            same_row = [key == value for key, value in zip(keys, row[: len(keys)], strict=True)]
            db.session.execute(
                update(table).where(*same_row).values(**values),
                execution_options={"synchronize_session": False},
            )
            changed += 1
    return changed


def _scrubbed(values: dict[str, Any], person: Person) -> dict[str, Any]:
    """The columns whose value changes once scrubbed, with their new value."""
    changes = {}
    for name, value in values.items():
        scrubbed = person.scrub(value) if isinstance(value, str) else person.scrub_json(value)
        if scrubbed != value:
            changes[name] = scrubbed
    return changes
