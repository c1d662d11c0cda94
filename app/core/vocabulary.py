"""Shared vocabulary: regions and company sizes, with their labels for the UI."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice


class Region(enum.StrEnum):
    SEOUL = "seoul"
    INCHEON = "incheon"
    GYEONGGI = "gyeonggi"
    DAEJEON = "daejeon"
    DAEGU = "daegu"
    BUSAN = "busan"
    ULSAN = "ulsan"
    CHANGWON = "changwon"
    GWANGJU = "gwangju"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return str(REGION_LABELS[self])


REGION_LABELS = {
    Region.SEOUL: _l("Seoul"),
    Region.INCHEON: _l("Incheon"),
    Region.GYEONGGI: _l("Gyeonggi"),
    Region.DAEJEON: _l("Daejeon"),
    Region.DAEGU: _l("Daegu"),
    Region.BUSAN: _l("Busan"),
    Region.ULSAN: _l("Ulsan"),
    Region.CHANGWON: _l("Changwon"),
    Region.GWANGJU: _l("Gwangju"),
    Region.ONLINE: _l("Online"),
}


class CompanySize(enum.StrEnum):
    SME = "sme"
    MIDSIZE = "midsize"
    LARGE = "large"

    @property
    def label(self) -> str:
        return str(COMPANY_SIZE_LABELS[self])


COMPANY_SIZE_LABELS = {
    CompanySize.SME: _l("SME"),
    CompanySize.MIDSIZE: _l("Mid-size"),
    CompanySize.LARGE: _l("Large enterprise"),
}


def choices(labels: dict) -> list[SelectChoice]:
    """WTForms choices from an enum-to-label mapping."""
    return [SelectChoice(member.value, label) for member, label in labels.items()]
