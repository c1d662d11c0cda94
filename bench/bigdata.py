"""Bench data at the scale of a big institute: ten years of history, bulk-inserted, cached.

Run from the repository root (it is also what `bench/bench_scale.py` calls):

    .venv/bin/python bench/bigdata.py                       # SQLite and PostgreSQL, scale 1.0
    .venv/bin/python bench/bigdata.py --engine sqlite --scale 0.1
    .venv/bin/python bench/bigdata.py --years 1 --force     # rebuild even if cached

At scale 1.0 and 10 years (the last one the current local year, "today" included) the set
holds 4,000 courses, 200,000 enrolments, 150,000 released survey responses (about 1 million
answer rows) and 50,000 certificates, with what they hang on: 60,000 learners in 3,000
companies with their training contacts, instructors and staff, sessions, announcements,
post-course and half-yearly invitations, on-site training requests with sign-ups, CP
mentoring cases with visits and follow-up actions, instructor meetings and the published
annual calendars. Every figure is per year times years times scale (`PER_YEAR`), so
`--years 1` is one year at the same density (the set the runner compares against).

How it is built: the schema with `db.create_all()` through the app factory, the built-in
survey templates and CP checklist through the product's own services (the ORM), then every
other row with explicit ids, parents before children, in one transaction: SQLAlchemy Core
`insert()` executemany in chunks on SQLite, `COPY ... FROM STDIN` through psycopg on
PostgreSQL (several times faster than executemany there), followed by the sequences set
past the ids used and `VACUUM ANALYZE` of each table, as autovacuum would soon do. SQLite
gets no ANALYZE: nothing in the product runs one.

The rows keep the models' rules: seats taken never above capacity and equal to the
enrolled seats, one enrolment per course and learner, completion recorded only for closed
courses, post-course invitations one per enrolment (its survey gate, `survey_submitted`,
set for those who answered), answers present only as *released* responses (the state a
release leaves: `Invitation.submitted` and `answered_on` stamped, no pending sealed rows,
`small_batch` where a course had fewer than k answers), unique serials `YYYY-NNNNNNN` with
their counters, unique verification codes of the product's alphabet, a valid certificate
per completed enrolment whose survey gate holds (for the newest courses, until the
certificate count is reached: older years predate online certificates here).

Cache: a set is reused while its key matches, the key being the spec (scale, years, last
year), this file's own text and the schema's DDL (so a model change or an edit here builds
anew). SQLite sets live in `bench/.data/coursedesk-<years>y-s<scale>.sqlite3` (written
under a temporary name, renamed when complete); PostgreSQL sets in one schema each,
`bench_<years>y_s<scale>`, of the database in BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/bench, created if missing), built under
`<schema>__build` and renamed when complete. Each set records its key, row counts,
build time and the ids the benchmarks need in a table of its own, `bench_dataset`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Keep create_app from writing instance/secret_key in the checkout; nothing is signed here.
os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")

from _support import COMMENTS, LIKERT_PROFILES, PROFILE_WEIGHTS  # noqa: E402
from sqlalchemy import JSON, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import Connection, make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
from sqlalchemy.schema import CreateIndex, CreateTable  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import create_app  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.core.timeutil import UTCDateTime, local_to_utc, local_today, to_local, utcnow  # noqa: E402

DATA_DIR = ROOT / "bench" / ".data"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
STAFF_EMAIL = "staff@bench.example"
#: Every account of a bench set shares this password (one scrypt hash); local data only.
PASSWORD = "bench-not-a-secret-password"
SEED = 20170101
CHUNK = 10_000  # rows per executemany or COPY

#: Rows per year at scale 1.0: ten years give the issue's 4,000 / 200,000 / 150,000 / 50,000.
PER_YEAR = {
    "courses": 400,
    "enrolments": 20_000,
    "responses": 15_000,  # post-course and half-yearly together
    "certificates": 5_000,
    "learners": 6_000,
    "companies": 300,
    "onsite_requests": 60,
    "mentoring_cases": 40,
}
HALF_YEARLY_RESPONSES = 500  # per half-year at scale 1.0, part of "responses"
INSTRUCTORS = 80  # at scale 1.0
STAFF = 12
SURVEY_RELEASE_BATCH = 5  # the product's default k

SUBJECTS = (
    ("전략물자 수출통제 제도의 이해", "newcomers", 6),
    ("전략물자 판정 실무", "practitioners", 12),
    ("이중용도품목 판정", "practitioners", 6),
    ("기술이전 통제", "practitioners", 6),
    ("상황허가(캐치올) 실무", "practitioners", 6),
    ("자율준수무역거래자(CP) 지정 준비", "practitioners", 6),
    ("CP 실무자 과정", "practitioners", 12),
    ("경영진 대상 수출통제 리스크", "executives", 3),
    ("미국 수출통제(EAR)의 이해", "practitioners", 6),
    ("대러 제재 동향", "all", 3),
    ("중소기업 대상 설명회", "all", 3),
    ("온라인 기본과정", "newcomers", 3),
)
REGIONS = (
    *("seoul",) * 5,
    *("gyeonggi", "incheon", "daejeon", "daegu", "busan", "ulsan", "changwon", "gwangju"),
)
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = (
    *("민준", "서연", "도윤", "하은", "지호", "서윤", "예준", "지우", "시우", "수아"),
    *("주원", "하린", "지훈", "지아", "건우", "서아", "우진", "윤서", "선우", "채원"),
    *("현우", "다은", "준서", "수빈", "연우", "예린", "유준", "소율", "정우", "가은"),
)
COMPANY_PREFIXES = "가나다라마바사아자차카타파하"
COMPANY_WORDS = ("정밀", "전자", "화학", "기계", "소재", "테크", "산업", "통상", "에너지", "바이오")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # certificates.models.CODE_ALPHABET


@dataclass(frozen=True)
class Spec:
    """Which set: `years` ending with `last_year`, every per-year figure times `scale`."""

    scale: float = 1.0
    years: int = 10
    last_year: int = 0  # 0: the current local year

    def resolved(self) -> Spec:
        if self.last_year:
            return self
        return Spec(self.scale, self.years, local_today().year)

    def count(self, name: str) -> int:
        return max(1, round(PER_YEAR[name] * self.years * self.scale))

    @property
    def first_year(self) -> int:
        return self.last_year - self.years + 1

    @property
    def label(self) -> str:
        return f"{self.years}y×{self.scale:g}"

    @property
    def slug(self) -> str:
        return f"{self.years}y_s{self.scale:g}".replace(".", "_")


@dataclass
class Dataset:
    """A built set: where it is and what it holds (`meta`, as recorded with it)."""

    engine: str  # "SQLite" or "PostgreSQL"
    url: str
    spec: Spec
    meta: dict[str, Any]
    built_now: bool

    @property
    def build_seconds(self) -> float:
        return float(self.meta["build_seconds"])

    @property
    def counts(self) -> dict[str, int]:
        return self.meta["counts"]

    @property
    def ids(self) -> dict[str, Any]:
        return self.meta["ids"]


class Unreachable(Exception):
    """The PostgreSQL server cannot be reached."""


# --- Entry points --------------------------------------------------------------------------


def sqlite_dataset(spec: Spec, *, force: bool = False, log=print) -> Dataset:
    spec = spec.resolved()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"coursedesk-{spec.slug.replace('_', '-', 1)}.sqlite3"
    url = f"sqlite:///{path}"
    key = cache_key(spec, "sqlite")
    if not force and path.exists():
        meta = _read_meta(url, key)
        if meta is not None:
            return Dataset("SQLite", url, spec, meta, built_now=False)
    building = path.with_name(path.name + ".build")
    for stale in _sqlite_files(building):
        stale.unlink(missing_ok=True)
    log(f"building {spec.label} on SQLite ({path.relative_to(ROOT)}) ...")
    meta = build(f"sqlite:///{building}", spec, key, log=log)
    for stale in _sqlite_files(path):
        stale.unlink(missing_ok=True)
    building.replace(path)
    for stale in _sqlite_files(building):
        stale.unlink(missing_ok=True)
    return Dataset("SQLite", url, spec, meta, built_now=True)


def postgres_dataset(
    spec: Spec, *, base_url: str | None = None, force: bool = False, log=print
) -> Dataset:
    spec = spec.resolved()
    base_url = base_url or os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
    ensure_database(base_url)
    schema = f"bench_{spec.slug}"
    url = schema_url(base_url, schema)
    key = cache_key(spec, "postgresql")
    admin = create_engine(base_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": schema},
            ).first()
        if not force and exists:
            meta = _read_meta(url, key)
            if meta is not None:
                return Dataset("PostgreSQL", url, spec, meta, built_now=False)
        building = f"{schema}__build"
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{building}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{building}"'))
        log(f"building {spec.label} on PostgreSQL (schema {schema}) ...")
        meta = build(schema_url(base_url, building), spec, key, log=log)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'ALTER SCHEMA "{building}" RENAME TO "{schema}"'))
    finally:
        admin.dispose()
    return Dataset("PostgreSQL", url, spec, meta, built_now=True)


def ensure_database(base_url: str) -> None:
    """Create the database BENCH_PG_URL names if it is missing (on its server)."""
    url = make_url(base_url)
    server = create_engine(
        url.set(database="postgres"),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with server.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}
            ).first()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    except OperationalError as error:
        where = url.render_as_string(hide_password=True)
        reason = " ".join(str(error.orig).split())[:200]
        raise Unreachable(f"cannot connect to {where}: {reason}") from error
    finally:
        server.dispose()


def schema_url(base_url: str, schema: str) -> str:
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _read_meta(url: str, key: str) -> dict | None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT meta FROM bench_dataset WHERE cache_key = :k"), {"k": key}
            ).first()
    except Exception:  # no such table, a half-written file: not a usable set
        return None
    finally:
        engine.dispose()
    return json.loads(row[0]) if row else None


def cache_key(spec: Spec, dialect_name: str) -> str:
    """Spec, this file, the shared answer data (_support.py) and the schema's DDL on the
    engine: any change builds anew."""
    from sqlalchemy.dialects import postgresql, sqlite

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": False})
    dialect = (postgresql if dialect_name == "postgresql" else sqlite).dialect()
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(spec), sort_keys=True).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update((Path(__file__).parent / "_support.py").read_bytes())
    with app.app_context():
        for table in db.metadata.sorted_tables:
            digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
            for index in sorted(table.indexes, key=lambda index: index.name or ""):
                digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    return digest.hexdigest()[:32]


# --- Building ------------------------------------------------------------------------------


def build(url: str, spec: Spec, key: str, *, log=print) -> dict:
    """Create the schema at `url` and fill it; returns the recorded meta."""
    started = time.perf_counter()
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": os.environ["SECRET_KEY"],
        }
    )
    from surveys import services as surveys
    from surveys.models import SurveyKind
    from visits import mentoring

    phases: dict[str, float] = {}
    with app.app_context():
        db.create_all()
        # The built-in templates and checklist through the product, as a fresh install has.
        templates = {}
        for kind in (SurveyKind.POST_COURSE, SurveyKind.HALF_YEARLY):
            template = surveys.current_template(kind)
            templates[kind.value] = (
                template.id,
                [(q.id, q.type.value) for q in template.questions],
            )
        mentoring.active_items()
        db.session.commit()
        db.session.remove()
        phases["schema"] = time.perf_counter() - started
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_dataset (cache_key VARCHAR(64), meta TEXT)"))
            loader = Loader(conn)
            generator = Generator(spec, loader, templates)
            generator.run()
            loader.flush()
            phases["insert"] = time.perf_counter() - started - phases["schema"]
            if conn.dialect.name == "postgresql":
                set_sequences(conn)
        finish_started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in db.metadata.sorted_tables:
                    conn.execute(text(f'VACUUM ANALYZE "{table.name}"'))
        phases["finish"] = time.perf_counter() - finish_started
        meta = {
            "cache_key": key,
            "spec": asdict(spec),
            "label": spec.label,
            "built_at": utcnow().isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "phases": {name: round(seconds, 2) for name, seconds in phases.items()},
            "counts": dict(sorted(loader.counts.items())),
            "ids": generator.ids,
            "password": PASSWORD,
        }
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_dataset (cache_key, meta) VALUES (:k, :m)"),
                {"k": key, "m": json.dumps(meta, ensure_ascii=False)},
            )
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.remove()
        db.engine.dispose()
    log(
        f"  {spec.label}: {meta['build_seconds']:.1f} s "
        f"(schema {phases['schema']:.1f} s, insert {phases['insert']:.1f} s, "
        f"finish {phases['finish']:.1f} s); "
        + ", ".join(f"{name} {count:,}" for name, count in loader.headline().items())
    )
    return meta


def set_sequences(conn: Connection) -> None:
    """COPY with explicit ids leaves the id sequences behind: move them past the ids used."""
    for table in db.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or key[0].type.python_type is not int:
            continue
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key[0].name}
        ).scalar()
        if sequence:
            conn.execute(
                text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{key[0].name}") '
                    f'FROM "{table.name}"), 0) + 1, false)'
                ),
                {"s": sequence},
            )


class Loader:
    """Rows in, per table; chunks out in the metadata's dependency order (parents first)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.tables = {table.name: table for table in db.metadata.sorted_tables}
        self.order = [table.name for table in db.metadata.sorted_tables]
        self.buffers: dict[str, list[dict]] = {}
        self.columns: dict[str, list[str]] = {}
        self.counts: Counter[str] = Counter()

    def add(self, table_name: str, row: dict) -> None:
        buffer = self.buffers.setdefault(table_name, [])
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for name in self.order:
            rows = self.buffers.get(name)
            if rows:
                self._write(self.tables[name], rows)
                self.counts[name] += len(rows)
                self.buffers[name] = []

    def headline(self) -> dict[str, int]:
        names = {
            "courses": "courses",
            "enrollments": "enrolments",
            "survey_responses": "responses",
            "survey_answers": "answers",
            "certificates": "certificates",
            "users": "users",
        }
        return {label: self.counts[name] for name, label in names.items()}

    def _columns(self, table, row: dict) -> list[str]:
        if table.name not in self.columns:
            unknown = set(row) - set(table.columns.keys())
            if unknown:
                raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
            self.columns[table.name] = [c.name for c in table.columns]
        return self.columns[table.name]

    def _complete(self, table, rows: list[dict]) -> list[dict]:
        """Every column in every row: missing ones get the column's Python default (a
        column added to a model later needs no change here), else None."""
        columns = self._columns(table, rows[0])
        defaults = {}
        for name in columns:
            if name in rows[0]:
                continue
            column = table.columns[name]
            default = column.default
            if default is None:
                defaults[name] = None
            elif default.is_scalar:
                defaults[name] = default.arg
            elif default.is_callable:
                defaults[name] = default.arg(None)
            else:
                defaults[name] = None
        if defaults:
            rows = [{**defaults, **row} for row in rows]
        return rows

    def _write(self, table, rows: list[dict]) -> None:
        rows = self._complete(table, rows)
        if not self.postgres:
            self.conn.execute(insert(table), rows)
            return
        columns = self.columns[table.name]
        convert = [_copy_converter(table.columns[name]) for name in columns]
        cursor = self.conn.connection.dbapi_connection.cursor()
        names = ", ".join(f'"{name}"' for name in columns)
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        fn(row[name]) if fn else row[name]
                        for name, fn in zip(columns, convert, strict=True)
                    ]
                )
        cursor.close()


def _copy_converter(column):
    """What the column's type does to a value before the driver sees it, for COPY."""
    if isinstance(column.type, UTCDateTime):
        return lambda v: None if v is None else v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(column.type, JSON):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    return None


# --- The data ------------------------------------------------------------------------------


@dataclass
class CourseRow:
    id: int
    year: int
    title: str
    starts_at: datetime
    ends_at: datetime
    hours: Decimal
    status: str
    private: bool
    requires_survey: bool
    closed_at: datetime | None
    #: (enrolment id, learner id, completed, answered the survey) of each seat holder.
    enrolled: list[tuple[int, int, bool | None, bool]] = field(default_factory=list)
    audience: str = "all"
    format: str = "classroom"
    region: str = "seoul"
    sessions: list[tuple[datetime, datetime, Decimal]] = field(default_factory=list)
    private_company_id: int | None = None


class Generator:
    def __init__(self, spec: Spec, loader: Loader, templates: dict) -> None:
        self.spec = spec
        self.rng = random.Random(SEED + spec.years * 1000 + round(spec.scale * 1000))
        self.add = loader.add
        self.loader = loader
        self.templates = templates
        self.now = utcnow()
        self.today = local_today()
        self.ids: dict[str, Any] = {"staff_email": STAFF_EMAIL}
        self.next_id: Counter[str] = Counter()
        self.courses: list[CourseRow] = []
        # The report tallies (surveys.models.Tally, ReleasedCount), counted as the released
        # answers are generated, as the product's releases count them.
        self.tallies: Counter[tuple] = Counter()
        self.released: dict[tuple, list[int]] = {}
        self.scope: tuple = ()
        self.password_hash = generate_password_hash(PASSWORD, method="scrypt")

    def new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def local(self, day: date, hour: int = 10, minute: int = 0) -> datetime:
        return local_to_utc(datetime(day.year, day.month, day.day, hour, minute))

    def run(self) -> None:
        self.people()
        self.calendars()
        self.make_courses()
        self.enrolments_and_surveys()
        self.half_yearly()
        self.certificates()
        self.announcements()
        self.onsite()
        self.mentoring()
        self.meetings()
        self.survey_tallies()

    # People -------------------------------------------------------------------------------

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def user(self, *, email: str, name: str, role: str, company_id=None, created=None) -> int:
        user_id = self.new_id("users")
        created = created or self.local(date(self.spec.first_year - 1, 12, 1))
        self.add(
            "users",
            {
                "id": user_id,
                "email": email,
                "name": name,
                "phone": f"010-{self.rng.randint(1000, 9999)}-{self.rng.randint(1000, 9999)}",
                "department": None
                if role != "learner"
                else self.rng.choice(("수출관리팀", "법무팀", "구매팀", "영업팀", "연구소", None)),
                "role": role,
                "password_hash": self.password_hash,
                "session_token": f"bench-{user_id}-{self.rng.getrandbits(64):016x}",
                "active": True,
                "company_id": company_id,
                "created_at": created,
                "password_changed_at": None,
                "email_verified_at": created,
                "failed_logins": 0,
                "locked_until": None,
            },
        )
        return user_id

    def people(self) -> None:
        spec, rng = self.spec, self.rng
        self.staff = [
            self.user(
                email=STAFF_EMAIL if n == 0 else f"staff{n}@bench.example",
                name=self.name(),
                role="staff",
            )
            for n in range(STAFF)
        ]
        self.instructors = [
            self.user(email=f"instructor{n}@bench.example", name=self.name(), role="instructor")
            for n in range(max(8, round(INSTRUCTORS * min(spec.scale, 1.0))))
        ]
        self.companies = []
        for n in range(spec.count("companies")):
            company_id = self.new_id("companies")
            created = self.local(
                date(spec.first_year, 1, 1) + timedelta(days=rng.randrange(spec.years * 365))
            )
            self.add(
                "companies",
                {
                    "id": company_id,
                    "name": f"{rng.choice(COMPANY_PREFIXES)}{rng.choice(COMPANY_WORDS)}({n + 1})",
                    "business_number": f"{1_000_000_000 + n:010d}",
                    "region": rng.choice(REGIONS),
                    "size": rng.choices(("sme", "midsize", "large"), (6, 3, 1))[0],
                    "created_at": created,
                    "approved_at": created + timedelta(days=1) if rng.random() < 0.97 else None,
                },
            )
            self.companies.append(company_id)
        self.contacts = {
            company_id: self.user(
                email=f"contact@company{company_id}.example",
                name=self.name(),
                role="company",
                company_id=company_id,
            )
            for company_id in self.companies
        }
        self.learners: list[int] = []
        self.learner_names: dict[int, str] = {}
        for n in range(spec.count("learners")):
            company_id = rng.choice(self.companies) if rng.random() < 0.8 else None
            name = self.name()
            domain = f"company{company_id}" if company_id else "mail"
            learner_id = self.user(
                email=f"learner{n}@{domain}.example",
                name=name,
                role="learner",
                company_id=company_id,
            )
            self.learners.append(learner_id)
            self.learner_names[learner_id] = name
        self.ids["staff_id"] = self.staff[0]

    def calendars(self) -> None:
        for year in range(self.spec.first_year, self.spec.last_year + 1):
            self.add(
                "calendar_years",
                {
                    "year": year,
                    "foreword": f"{year}년 전략물자 수출통제 교육 연간 일정을 안내합니다.",
                    "published_at": self.local(date(year, 1, 6), 9),
                    "published_by_id": self.staff[0],
                },
            )

    # Courses ------------------------------------------------------------------------------

    def make_courses(self) -> None:
        spec, rng = self.spec, self.rng
        total = spec.count("courses")
        per_year = [
            total // spec.years + (1 if n < total % spec.years else 0) for n in range(spec.years)
        ]
        for offset, count in enumerate(per_year):
            year = spec.first_year + offset
            numbers: Counter[str] = Counter()
            for n in range(count):
                day = date(year, 1, 8) + timedelta(days=n * 348 // max(count, 1))
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                subject, audience, hours = SUBJECTS[rng.randrange(len(SUBJECTS))]
                numbers[subject] += 1
                online = subject == "온라인 기본과정" or rng.random() < 0.15
                private = not online and rng.random() < 0.03
                fmt = "online" if online else ("onsite" if private else "classroom")
                days = 2 if hours == 12 else 1
                sessions = []
                session_day = day
                for _ in range(days):
                    if online or hours == 3:
                        begin, end = self.local(session_day, 14), self.local(session_day, 17)
                        session_hours = Decimal(hours)
                    else:
                        begin, end = self.local(session_day, 10), self.local(session_day, 17)
                        session_hours = Decimal(6)
                    sessions.append((begin, end, session_hours))
                    session_day += timedelta(days=1)
                    while session_day.weekday() >= 5:
                        session_day += timedelta(days=1)
                starts_at, ends_at = sessions[0][0], sessions[-1][1]
                cancelled = starts_at < self.now and rng.random() < 0.04
                closed_at = None
                if not cancelled and ends_at + timedelta(days=3) < self.now:
                    closed_at = ends_at + timedelta(days=rng.randint(1, 3))
                course = CourseRow(
                    id=self.new_id("courses"),
                    year=year,
                    title=f"{subject} ({numbers[subject]}차)",
                    starts_at=starts_at,
                    ends_at=ends_at,
                    hours=sum((s[2] for s in sessions), Decimal(0)),
                    status="cancelled" if cancelled else "published",
                    private=private,
                    requires_survey=rng.random() < 0.9,
                    closed_at=closed_at,
                    audience=audience,
                    format=fmt,
                    region="online" if online else rng.choice(REGIONS),
                    sessions=sessions,
                    private_company_id=rng.choice(self.companies) if private else None,
                )
                self.courses.append(course)

    def write_course(self, course: CourseRow, capacity: int, seats_taken: int) -> None:
        rng = self.rng
        created = self.local(date(course.year - 1, 12, rng.randint(1, 20)))
        self.add(
            "courses",
            {
                "id": course.id,
                "year": course.year,
                "title": course.title,
                "summary": f"{course.title.split(' (')[0]}: 제도와 실무를 사례 중심으로 익힙니다.",
                "content": "1교시 제도 개요\n2교시 판정 절차와 사례\n3교시 질의응답",
                "audience": course.audience,
                "size_focus": rng.choices(("all", "sme", "large", "midsize"), (6, 2, 1, 1))[0],
                "format": course.format,
                "region": course.region,
                "venue": "온라인(Zoom)" if course.format == "online" else "교육센터 3층 대강의실",
                "starts_at": course.starts_at,
                "ends_at": course.ends_at,
                "hours": course.hours,
                "capacity": capacity,
                "seats_taken": seats_taken,
                "fee": 0 if rng.random() < 0.8 else 50_000,
                "status": course.status,
                "cancel_reason": "신청 인원 부족으로 폐강합니다."
                if course.status == "cancelled"
                else None,
                "calendar_sequence": 1 if course.status == "cancelled" else 0,
                "cancel_cutoff_days": 3,
                "completion_threshold": 80,
                "closed_at": course.closed_at,
                "closed_by_id": self.staff[course.id % len(self.staff)]
                if course.closed_at
                else None,
                "requires_survey": course.requires_survey,
                "private": course.private,
                "private_company_id": course.private_company_id,
                "created_at": created,
                "updated_at": course.closed_at or created,
            },
        )
        for instructor in rng.sample(self.instructors, 2 if course.hours >= 12 else 1):
            self.add("course_instructors", {"course_id": course.id, "user_id": instructor})
        for begin, end, hours in course.sessions:
            self.add(
                "course_sessions",
                {
                    "id": self.new_id("course_sessions"),
                    "course_id": course.id,
                    "starts_at": begin,
                    "ends_at": end,
                    "hours": hours,
                    "checkin_code": "".join(rng.choice(CODE_ALPHABET) for _ in range(6)),
                },
            )

    # Enrolments, post-course invitations and responses ------------------------------------

    def enrolments_and_surveys(self) -> None:
        spec, rng = self.spec, self.rng
        live = [c for c in self.courses if c.status != "cancelled"]
        weights = [rng.lognormvariate(0, 0.6) for _ in live]
        target = spec.count("enrolments")
        scale = target / sum(weights)
        sizes = [max(1, int(w * scale)) for w in weights]
        for n in range(target - sum(sizes)):
            sizes[n % len(sizes)] += 1
        while sum(sizes) > target:  # the floor of 1 each overshot (tiny scales only)
            biggest = max(range(len(sizes)), key=sizes.__getitem__)
            sizes[biggest] -= 1
        size_of = {c.id: s for c, s in zip(live, sizes, strict=True)}

        # First pass: who holds a seat, so that responses can be spread over the invited.
        plans = {}
        for course in self.courses:
            rows = size_of.get(course.id, 0)
            learners = rng.sample(self.learners, min(rows, len(self.learners)))
            cancelled_rows = round(len(learners) * 0.07)
            holders = learners[cancelled_rows:]
            waiting: list[int] = []
            started = course.starts_at <= self.now
            if not started and holders and rng.random() < 0.2:
                waiting_count = max(1, len(holders) // 10)
                holders, waiting = holders[waiting_count:], holders[:waiting_count]
                capacity = max(1, len(holders))
            else:
                capacity = max(10, math.ceil(len(holders) * rng.uniform(1.0, 1.3) / 10) * 10)
            plans[course.id] = (learners[:cancelled_rows], holders, waiting, capacity)

        invited_total = sum(len(plans[c.id][1]) for c in self.courses if c.closed_at is not None)
        self.half_list = self.halves()
        post_target = spec.count("responses") - len(self.half_list) * self.half_responses()
        rate = min(0.95, post_target / max(invited_total, 1))
        responders: dict[int, int] = {}
        closed = [c for c in self.courses if c.closed_at is not None]
        for course in closed:
            invited = len(plans[course.id][1])
            responders[course.id] = min(invited, round(invited * rate * rng.uniform(0.8, 1.2)))
        difference = post_target - sum(responders.values())
        order = list(closed)
        rng.shuffle(order)
        while difference and order:
            progressed = False
            for course in order:
                if difference == 0:
                    break
                invited = len(plans[course.id][1])
                if difference > 0 and responders[course.id] < invited:
                    responders[course.id] += 1
                    difference -= 1
                    progressed = True
                elif difference < 0 and responders[course.id] > 0:
                    responders[course.id] -= 1
                    difference += 1
                    progressed = True
            if not progressed:
                break
        self.ids["post_course_responses"] = post_target - difference

        post_id, post_questions = self.templates["post_course"]
        for course in self.courses:
            cancelled_learners, holders, waiting, capacity = plans[course.id]
            self.write_course(course, capacity, len(holders))
            created_base = course.starts_at - timedelta(days=45)
            for learner in cancelled_learners:
                self.enrolment(course, learner, "cancelled", created_base)
            answered = set(rng.sample(range(len(holders)), responders.get(course.id, 0)))
            for n, learner in enumerate(holders):
                completed = None
                if course.closed_at is not None:
                    completed = rng.random() < 0.93
                enrolment_id = self.enrolment(
                    course,
                    learner,
                    "enrolled",
                    created_base,
                    completed=completed,
                    survey_submitted=n in answered,
                )
                course.enrolled.append((enrolment_id, learner, completed, n in answered))
                if course.closed_at is not None:
                    answered_on = None
                    if n in answered:
                        answered_on = min(
                            self.today,
                            to_local(course.ends_at).date() + timedelta(days=rng.randint(0, 9)),
                        )
                    self.add(
                        "survey_invitations",
                        {
                            "id": self.new_id("survey_invitations"),
                            "token": f"{rng.getrandbits(192):048x}",
                            "kind": "post_course",
                            "learner_id": learner,
                            "enrollment_id": enrolment_id,
                            "course_id": course.id,
                            "half": None,
                            "sent_at": course.ends_at + timedelta(hours=2),
                            "reminders_sent": rng.choice((0, 1)) if n in answered else 2,
                            "submitted": n in answered,
                            "answered_on": answered_on,
                        },
                    )
            for position, learner in enumerate(waiting, start=1):
                self.enrolment(course, learner, "waiting", created_base, rank=position)
            count = responders.get(course.id, 0)
            if count:
                likert = LIKERT_PROFILES[rng.choices(range(3), PROFILE_WEIGHTS)[0]]
                for _ in range(count):
                    self.response(
                        post_id,
                        post_questions,
                        "post_course",
                        course.id,
                        None,
                        likert,
                        small_batch=count < SURVEY_RELEASE_BATCH,
                    )

    def enrolment(
        self,
        course,
        learner,
        status,
        created_base,
        *,
        completed=None,
        survey_submitted=False,
        rank=0,
    ) -> int:
        rng = self.rng
        enrolment_id = self.new_id("enrollments")
        created = min(self.now, created_base + timedelta(minutes=rng.randrange(40 * 24 * 60)))
        source = rng.choices(("self", "company", "staff"), (75, 20, 5))[0]
        attended = None
        if completed is not None:
            attended = (
                course.hours
                if completed
                else (course.hours * Decimal(rng.choice(("0.25", "0.5", "0.5")))).quantize(
                    Decimal("0.1")
                )
            )
        self.add(
            "enrollments",
            {
                "id": enrolment_id,
                "course_id": course.id,
                "learner_id": learner,
                "status": status,
                "queue_rank": int(created.timestamp() * 1_000_000) + rank
                if status == "waiting"
                else 0,
                "source": source,
                "enrolled_by_id": self.staff[1] if source == "staff" else None,
                "created_at": created,
                "updated_at": course.closed_at or created,
                "promoted_at": None,
                "decline_token": None,
                "completed": completed,
                "attended_hours": attended,
                "completion_override_reason": None,
                "survey_submitted": survey_submitted,
            },
        )
        return enrolment_id

    def response(self, template_id, questions, kind, course_id, half, likert, *, small_batch):
        rng = self.rng
        response_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        self.scope = (kind, course_id, half)
        counts = self.released.setdefault((*self.scope, template_id), [0, 0])
        counts[0] += 1
        counts[1] += small_batch
        self.add(
            "survey_responses",
            {
                "id": response_id,
                "template_id": template_id,
                "kind": kind,
                "course_id": course_id,
                "half": half,
                "small_batch": small_batch,
            },
        )
        for question_id, qtype in questions:
            if qtype == "likert":
                self.answer(response_id, question_id, 0, rng.choices(range(1, 6), likert)[0])
            elif qtype == "single":
                self.answer(response_id, question_id, 0, rng.randint(1, 5))
            elif qtype == "multiple":
                ticks = rng.choices((0, 1, 2), (30, 45, 25))[0]
                for choice in sorted(rng.sample(range(1, 6), ticks)):
                    self.answer(response_id, question_id, choice, choice)
            elif rng.random() < 0.1:
                self.answer(response_id, question_id, 0, None, rng.choice(COMMENTS))

    def answer(self, response_id, question_id, choice, value, answer_text=None) -> None:
        if value is not None:
            self.tallies[(*self.scope, question_id, value)] += 1
        self.add(
            "survey_answers",
            {
                "response_id": response_id,
                "question_id": question_id,
                "choice": choice,
                "value": value,
                "text": answer_text,
            },
        )

    def survey_tallies(self) -> None:
        def scope_name(kind, course_id, half) -> str:  # surveys.services.Scope.name
            return f"{kind}|{course_id or ''}|{half or ''}"

        for (kind, course_id, half, template_id), (responses, small) in self.released.items():
            self.add(
                "survey_released_counts",
                {
                    "id": self.new_id("survey_released_counts"),
                    "scope": scope_name(kind, course_id, half),
                    "kind": kind,
                    "course_id": course_id,
                    "half": half,
                    "template_id": template_id,
                    "responses": responses,
                    "small_batch": small,
                },
            )
        for (kind, course_id, half, question_id, value), count in self.tallies.items():
            self.add(
                "survey_tallies",
                {
                    "id": self.new_id("survey_tallies"),
                    "scope": scope_name(kind, course_id, half),
                    "kind": kind,
                    "course_id": course_id,
                    "half": half,
                    "question_id": question_id,
                    "value": value,
                    "count": count,
                },
            )

    # Half-yearly on-the-job survey --------------------------------------------------------

    def half_responses(self) -> int:
        return max(1, round(HALF_YEARLY_RESPONSES * self.spec.scale))

    def halves(self) -> list[tuple[str, date]]:
        """Every half-year of the set whose survey has been released by today."""
        halves = []
        for year in range(self.spec.first_year, self.spec.last_year + 1):
            for part, released in (("H1", date(year, 7, 20)), ("H2", date(year + 1, 1, 20))):
                if released <= self.today:
                    halves.append((f"{year}{part}", released))
        return halves

    def half_yearly(self) -> None:
        rng = self.rng
        template_id, questions = self.templates["half_yearly"]
        per_half = self.half_responses()
        for half, released in self.half_list:
            invited = rng.sample(self.learners, min(len(self.learners), round(per_half / 0.6)))
            sent = self.local(released - timedelta(days=14), 9)
            for n, learner in enumerate(invited):
                answered = n < per_half
                self.add(
                    "survey_invitations",
                    {
                        "id": self.new_id("survey_invitations"),
                        "token": f"{rng.getrandbits(192):048x}",
                        "kind": "half_yearly",
                        "learner_id": learner,
                        "enrollment_id": None,
                        "course_id": None,
                        "half": half,
                        "sent_at": sent,
                        "reminders_sent": 0 if answered else 2,
                        "submitted": answered,
                        "answered_on": released if answered else None,
                    },
                )
            for _ in range(min(per_half, len(invited))):
                self.response(
                    template_id,
                    questions,
                    "half_yearly",
                    None,
                    half,
                    LIKERT_PROFILES[1],
                    small_batch=False,
                )

    # Certificates -------------------------------------------------------------------------

    def certificates(self) -> None:
        rng = self.rng
        target = self.spec.count("certificates")
        chosen = []
        for course in sorted(
            (c for c in self.courses if c.closed_at is not None),
            key=lambda c: (c.starts_at, c.id),
            reverse=True,
        ):
            for enrolment_id, learner, completed, answered in course.enrolled:
                if completed and (answered or not course.requires_survey):
                    chosen.append((course, enrolment_id, learner, answered))
            if len(chosen) >= target:
                break
        chosen = chosen[:target]
        issued = []
        for course, enrolment_id, learner, answered in chosen:
            moment = course.closed_at
            if answered and course.requires_survey:
                answered_day = to_local(course.ends_at).date() + timedelta(days=rng.randint(0, 9))
                moment = max(moment, self.local(min(answered_day, self.today), 11))
            issued.append((min(moment, self.now), course, enrolment_id, learner))
        issued.sort(key=lambda item: (item[0], item[2]))
        numbers: Counter[int] = Counter()
        codes: set[str] = set()
        per_course: Counter[int] = Counter()
        sample = []
        for moment, course, enrolment_id, learner in issued:
            year = to_local(moment).year
            numbers[year] += 1
            while True:
                code = "".join(rng.choice(CODE_ALPHABET) for _ in range(16))
                if code not in codes:
                    codes.add(code)
                    break
            revoked = rng.random() < 0.003
            certificate_id = self.new_id("certificates")
            staff = self.staff[course.id % len(self.staff)]
            self.add(
                "certificates",
                {
                    "id": certificate_id,
                    "enrollment_id": enrolment_id,
                    "serial": f"{year}-{numbers[year]:07d}",
                    "verification_code": code,
                    "status": "revoked" if revoked else "valid",
                    "holder_name": self.learner_names[learner],
                    "course_id": course.id,
                    "course_title": course.title,
                    "course_start": to_local(course.starts_at).date(),
                    "course_end": to_local(course.ends_at).date(),
                    "hours": course.hours,
                    "issued_at": moment,
                    "issued_by_id": staff,
                    "issued_by_name": f"교육운영팀 {staff}",
                    "revoked_at": moment + timedelta(days=30) if revoked else None,
                    "revoked_by_id": self.staff[0] if revoked else None,
                    "revoke_reason": "발급 정보 정정" if revoked else None,
                    "replaced_by_id": None,
                    "pdf": None,
                    "pdf_sha256": None,
                    "learner_id": learner,
                },
            )
            if not revoked:
                per_course[course.id] += 1
                if len(sample) < 40:
                    sample.append(certificate_id)
        for year, last in sorted(numbers.items()):
            self.add("certificate_serials", {"year": year, "last_number": last})
        self.ids["certificate_sample"] = sample
        if per_course:
            self.ids["bulk_course_id"], self.ids["bulk_course_certificates"] = max(
                per_course.items(), key=lambda item: (item[1], -item[0])
            )

    # Announcements ------------------------------------------------------------------------

    def announcements(self) -> None:
        rng = self.rng
        upcoming = None
        latest_public = None
        for course in self.courses:
            public = course.status == "published" and not course.private
            if not public:
                continue
            latest_public = course.id
            if upcoming is None and course.starts_at > self.now:
                upcoming = course.id
            roll = rng.random()
            if roll < 0.90:
                published = course.starts_at - timedelta(days=14)
                late = False
            elif roll < 0.97:
                published = course.starts_at - timedelta(days=rng.randint(2, 6))
                late = True
            else:
                continue  # never announced: the standard was missed
            if published > self.now:
                continue  # `announce-due` has not got to it yet
            self.add(
                "announcements",
                {
                    "id": self.new_id("announcements"),
                    "course_id": course.id,
                    "title": f"[교육 안내] {course.title}",
                    "body": f"{course.title} 과정을 안내합니다. 일정과 장소를 확인하시고 "
                    "수강신청해 주십시오.",
                    "published_at": published,
                    "late": late,
                    "updated_by_id": None,
                    "created_at": published,
                    "updated_at": published,
                },
            )
        self.ids["course_page_id"] = upcoming or latest_public
        self.ids["year"] = self.spec.last_year

    # On-site requests, mentoring, meetings ------------------------------------------------

    def onsite(self) -> None:
        rng, spec = self.rng, self.spec
        for _ in range(spec.count("onsite_requests")):
            company = rng.choice(self.companies)
            created = self.local(
                date(spec.first_year, 1, 2) + timedelta(days=rng.randrange(spec.years * 360))
            )
            created = min(created, self.now - timedelta(days=1))
            recent = self.now - created < timedelta(days=60)
            if recent:
                state = rng.choice(("draft", "collecting", "submitted", "accepted", "scheduled"))
            else:
                state = rng.choices(
                    ("closed", "delivered", "declined", "withdrawn", "lapsed"), (55, 5, 10, 10, 20)
                )[0]
            submitted = None
            if state not in ("draft", "collecting", "withdrawn", "lapsed"):
                submitted = created + timedelta(days=rng.randint(5, 20))
                submitted = min(submitted, self.now - timedelta(hours=1))
            responded = None
            if submitted and state != "submitted":
                responded = submitted + timedelta(hours=rng.randint(2, 70))
            request_id = self.new_id("onsite_requests")
            self.add(
                "onsite_requests",
                {
                    "id": request_id,
                    "company_id": company,
                    "created_by_id": self.contacts[company],
                    "state": state,
                    "title": "맞춤형 방문교육: 전략물자 판정 실무",
                    "content": "당사 수출관리 담당자 대상 판정 실무 교육을 요청합니다.",
                    "topics": ["전략물자 판정 실무"],
                    "preferred_dates": ["다음 달 둘째 주", "다음 달 셋째 주"],
                    "address": "본사 2층 회의실",
                    "region": rng.choice(REGIONS),
                    "audience": "practitioners",
                    "expected_headcount": rng.randint(10, 40),
                    "venue_capacity": None,
                    "contact_name": self.name(),
                    "contact_phone": "02-000-0000",
                    "contact_email": f"contact@company{company}.example",
                    "notes": "",
                    "share_token": f"{rng.getrandbits(192):048x}",
                    "threshold": 10,
                    "signup_deadline": (created + timedelta(days=21)).date(),
                    "deadline_extended": False,
                    "decline_reason": "일정 조율 불가" if state == "declined" else None,
                    "responsible_staff_id": self.staff[2] if responded else None,
                    "submitted_at": submitted,
                    "first_response_at": responded,
                    "course_id": None,
                    "created_at": created,
                    "updated_at": responded or submitted or created,
                },
            )
            signups = (
                rng.randint(3, 9)
                if state in ("draft", "collecting", "lapsed")
                else (rng.randint(10, 25))
            )
            for n in range(signups):
                self.add(
                    "onsite_signups",
                    {
                        "id": self.new_id("onsite_signups"),
                        "request_id": request_id,
                        "name": self.name(),
                        "email": f"staff{n}.r{request_id}@company{company}.example",
                        "department": "수출관리팀",
                        "user_id": None,
                        "confirm_token": f"{rng.getrandbits(192):048x}",
                        "confirmed_at": created + timedelta(days=1),
                        "created_at": created + timedelta(hours=n + 1),
                    },
                )

    def mentoring(self) -> None:
        rng, spec = self.rng, self.spec
        mentors = self.instructors[:10] + self.staff[:3]
        for _ in range(spec.count("mentoring_cases")):
            company = rng.choice(self.companies)
            created = self.local(
                date(spec.first_year, 1, 2) + timedelta(days=rng.randrange(spec.years * 360))
            )
            created = min(created, self.now - timedelta(days=1))
            age = self.now - created
            if age > timedelta(days=400):
                state = "closed"
            else:
                state = rng.choice(("applied", "assigned", "in_progress", "in_progress", "closed"))
            mentor = rng.choice(mentors) if state != "applied" else None
            case_id = self.new_id("mentoring_cases")
            self.add(
                "mentoring_cases",
                {
                    "id": case_id,
                    "company_id": company,
                    "created_by_id": self.contacts[company],
                    "cp_status": rng.choice(("none", "building", "designated")),
                    "needs": rng.sample(["criteria", "system", "privileges", "training"], 2),
                    "preferred_dates": "평일 오후",
                    "contact_name": self.name(),
                    "contact_phone": "02-000-0000",
                    "contact_email": f"contact@company{company}.example",
                    "notes": "",
                    "state": state,
                    "mentor_id": mentor,
                    "created_at": created,
                    "closed_at": created + timedelta(days=rng.randint(60, 300))
                    if state == "closed"
                    else None,
                },
            )
            if state in ("applied", "assigned"):
                continue
            for v in range(rng.randint(1, 3)):
                visited = to_local(created + timedelta(days=20 + 30 * v)).date()
                if visited > self.today:
                    break
                visit_id = self.new_id("mentoring_visits")
                self.add(
                    "mentoring_visits",
                    {
                        "id": visit_id,
                        "case_id": case_id,
                        "visited_on": visited,
                        "mentor_id": mentor,
                        "attendees": "수출관리 책임자, 담당자 2명",
                        "topics": "CP 지정 기준 점검",
                        "findings": "판정 절차 문서화가 필요함",
                        "created_at": self.local(visited, 18),
                    },
                )
                for a in range(rng.randint(0, 2)):
                    due = visited + timedelta(days=14 * (a + 1))
                    done = (
                        due - timedelta(days=2)
                        if (state == "closed" or rng.random() < 0.7)
                        and due - timedelta(days=2) <= self.today
                        else None
                    )
                    self.add(
                        "mentoring_actions",
                        {
                            "id": self.new_id("mentoring_actions"),
                            "visit_id": visit_id,
                            "case_id": case_id,
                            "description": "판정 절차서 초안 작성",
                            "due_on": due,
                            "done_on": done,
                        },
                    )

    def meetings(self) -> None:
        for year in range(self.spec.first_year, self.spec.last_year + 1):
            for part, day in (("H1", date(year, 6, 20)), ("H2", date(year, 12, 10))):
                self.add(
                    "instructor_meetings",
                    {
                        "id": self.new_id("instructor_meetings"),
                        "held_on": day,
                        "half": f"{year}{part}",
                        "title": f"{year}년 {'상' if part == 'H1' else '하'}반기 강사 간담회",
                        "attendee_ids": self.instructors[:6] + self.staff[:2],
                        "other_attendees": "",
                        "agenda": "설문 결과 검토, 교재 개정",
                        "minutes": "" if day > self.today else "설문 결과를 검토함",
                        "decisions": "",
                        "created_by_id": self.staff[0],
                        "created_at": self.local(day - timedelta(days=20), 9),
                    },
                )


# --- Command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 1.0)))
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)
    spec = Spec(args.scale, args.years)
    if args.engine in ("sqlite", "both"):
        data = sqlite_dataset(spec, force=args.force)
        print(
            f"SQLite {data.spec.label}: {'built' if data.built_now else 'cached'}, "
            f"{data.build_seconds:.1f} s to build; {data.url}"
        )
    if args.engine in ("postgresql", "both"):
        try:
            data = postgres_dataset(spec, force=args.force)
        except Unreachable as error:
            print(f"PostgreSQL skipped: {error}")
        else:
            print(
                f"PostgreSQL {data.spec.label}: {'built' if data.built_now else 'cached'}, "
                f"{data.build_seconds:.1f} s to build; schema of {data.url}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
