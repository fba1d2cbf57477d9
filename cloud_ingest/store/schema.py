"""The cloud database, as SQLAlchemy Core tables.

The schema is created and changed only by the Alembic migrations in
``cloud_ingest/store/migrations`` (``tests/cloud/test_cloud_storage.py`` checks that the
migrated database matches these tables). Times are integers, ms since the
epoch, as on the gateway. Every gateway fact carries its own idempotency key
as a unique constraint, so a replay is an insert that does nothing.
"""

from __future__ import annotations

from sqlalchemy import (
                        BigInteger,
                        Boolean,
                        CheckConstraint,
                        Column,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        LargeBinary,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})

ROLES = ("admin", "inspector", "owner")
TOKEN_KINDS = ("gateway", "api")

districts = Table(
    "districts", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
)

workshops = Table(
    "workshops", metadata,
    Column("id", String(32), primary_key=True),  # the gateway's workshop id
    Column("name", Text, nullable=False),
    Column("district_id", String(32), ForeignKey("districts.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=True),  # owners only
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger, nullable=True),  # set while disabled: no login, no session, no token
    CheckConstraint("role IN ('admin', 'inspector', 'owner')", name="role"),
    CheckConstraint("(role = 'owner') = (workshop_id IS NOT NULL)", name="owner_workshop"),
)

user_districts = Table(  # an inspector's scope, or a district admin's (an admin without rows: every district)
    "user_districts", metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("district_id", String(32), ForeignKey("districts.id"), primary_key=True),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the secret
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=True),  # gateway tokens
    Column("user_id", Integer, ForeignKey("users.id"), nullable=True),  # api tokens
    Column("label", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("expires_at", BigInteger, nullable=True),  # NULL: does not expire (gateway tokens by default)
    # a gateway token's public key ("ed25519:<base64>", sebiao_common.batch_signature), set once (migration 0008)
    Column("public_key", String(64), nullable=True),
    Column("key_id", String(16), nullable=True),
    CheckConstraint("(kind = 'gateway' AND workshop_id IS NOT NULL AND user_id IS NULL) OR "
                    "(kind = 'api' AND user_id IS NOT NULL AND workshop_id IS NULL)", name="kind_owner"),
)

page_sessions = Table(  # the pages' logins: a session cookie is valid only while its row is here
    "page_sessions", metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the session id the signed cookie carries
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("started_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),  # its longest life; the row goes after
)

ingest_batches = Table(
    "ingest_batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("batch", String(64), nullable=False),  # the gateway's batch id
    Column("digest", String(64), nullable=False),  # sha256 of the inflated body
    Column("received_at", BigInteger, nullable=False),
    Column("items", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    UniqueConstraint("workshop_id", "batch", name="uq_ingest_batches_key"),
)

events = Table(
    "events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("station", String(32), nullable=False),
    Column("boot", String(8), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("tag", String(20), nullable=False),
    Column("action", String(8), nullable=False),
    Column("tool", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("received_at", BigInteger, nullable=False),  # cloud clock
    UniqueConstraint("workshop_id", "station", "boot", "seq", name="uq_events_key"),
    Index("ix_events_workshop_ts", "workshop_id", "ts"),  # a period's or the 30-day window's events
)

alarms = Table(  # the newest picture of each gateway alarm
    "alarms", metadata,
    Column("id", Integer, primary_key=True),  # the cloud's alarm id
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("gateway_id", BigInteger, nullable=False),  # the gateway's alarm id
    Column("type", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # the workshop's: active | cleared
    Column("acked", Boolean, nullable=False),  # the workshop's acknowledgement
    Column("latched", Boolean, nullable=False),
    Column("count", Integer, nullable=False),
    Column("tool", String(32), nullable=True),
    Column("tag", String(20), nullable=True),
    Column("station", String(32), nullable=True),
    Column("ts", BigInteger, nullable=False, index=True),  # the alarm queue, newest first (migration 0019)
    Column("last_ts", BigInteger, nullable=False),
    Column("raised_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("text_zh", Text, nullable=False),
    Column("text_en", Text, nullable=False),
    Column("history_seq", BigInteger, nullable=False),  # the newest transition this picture reflects
    # the inspector's review, kept apart from the workshop's own state
    Column("review", String(16), nullable=False),  # open | acknowledged | cleared
    Column("reviewed_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("reviewed_at", BigInteger, nullable=True),
    UniqueConstraint("workshop_id", "gateway_id", name="uq_alarms_key"),
)

alarm_transitions = Table(  # the workshop's own history: raise, repeat, ack, clear, with its comments
    "alarm_transitions", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("gateway_alarm_id", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the gateway's alarm_history id
    Column("at", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("acked", Boolean, nullable=False),
    Column("by", String(64), nullable=False),
    Column("comment", Text, nullable=True),  # the workshop's corrective action
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("workshop_id", "gateway_alarm_id", "seq", name="uq_alarm_transitions_key"),
    Index("ix_alarm_transitions_workshop_at", "workshop_id", "at"),  # a period's misuse occurrences
)

inspector_notes = Table(  # the inspector's own acknowledgements, clears and notes
    "inspector_notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("alarm_id", Integer, ForeignKey("alarms.id"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("action", String(16), nullable=False),  # ack | clear | comment
    Column("note", Text, nullable=True),
    Column("at", BigInteger, nullable=False),
)

RECTIFICATION_STATES = ("requested", "answered", "accepted", "returned")
RECTIFICATION_ACTIONS = ("request", "answer", "accept", "return")

rectifications = Table(  # remote rectification (远程整改): an inspector's request, the owner's answers
    "rectifications", metadata,
    Column("id", Integer, primary_key=True),
    Column("alarm_id", Integer, ForeignKey("alarms.id"), nullable=False, index=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # requested | answered | returned | accepted
    Column("note", Text, nullable=False),  # the inspector's request
    Column("requested_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("closed_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("closed_at", BigInteger, nullable=True),
    # the alarm's id while the rectification is open, NULL once accepted: the unique constraint
    # lets the database itself refuse a second open rectification of one alarm
    Column("open_alarm_id", Integer, nullable=True, unique=True),
    CheckConstraint("state IN ('requested', 'answered', 'accepted', 'returned')", name="state"),
    CheckConstraint("(state = 'accepted') = (open_alarm_id IS NULL) AND "
                    "(open_alarm_id IS NULL OR open_alarm_id = alarm_id)", name="open_alarm"),
)

rectification_steps = Table(  # every step of a rectification, in order
    "rectification_steps", metadata,
    Column("id", Integer, primary_key=True),
    Column("rectification_id", Integer, ForeignKey("rectifications.id"), nullable=False, index=True),
    Column("at", BigInteger, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("action", String(16), nullable=False),  # request | answer | accept | return
    Column("state", String(16), nullable=False),  # the rectification's state after this step
    Column("text", Text, nullable=True),  # request note, corrective action, return note; optional on accept
    CheckConstraint("action IN ('request', 'answer', 'accept', 'return')", name="action"),
)

GRADES = ("gold", "silver", "bronze", "orange")  # 金榜 银榜 铜榜 橙榜, best first (sebiao_common.grade_statement)

workshop_grades = Table(  # the regulator's grading of a workshop, every one kept (migration 0007; append-only)
    "workshop_grades", metadata,
    Column("id", Integer, primary_key=True),  # the signed statement's seq: it only grows
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False, index=True),
    Column("grade", String(8), nullable=False),
    Column("previous", String(8), nullable=True),  # the grade before this one; NULL: the first grading
    Column("effective", String(10), nullable=False),  # YYYY-MM-DD, China Standard Time
    Column("reason", Text, nullable=False),  # published with the grade
    Column("set_by", Integer, ForeignKey("users.id"), nullable=False),  # never published
    Column("set_at", BigInteger, nullable=False),
    CheckConstraint("grade IN ('gold', 'silver', 'bronze', 'orange')", name="grade"),
    CheckConstraint("previous IS NULL OR previous IN ('gold', 'silver', 'bronze', 'orange')", name="previous"),
)

station_status = Table(
    "station_status", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("station", String(32), nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("buffer_depth", Integer, nullable=True),
    Column("health", Text, nullable=False),  # the status JSON's other fields, canonical JSON
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("workshop_id", "station", "ts", name="uq_station_status_key"),
)

STATION_KINDS = ("rack", "sink", "disinfect")

stations = Table(  # one row per station a workshop's gateway has pushed anything of, with its newest status
    "stations", metadata,
    Column("workshop_id", String(32), ForeignKey("workshops.id"), primary_key=True),
    Column("station", String(32), primary_key=True),
    # from the gateway's status items (its workshop config); NULL: not told yet (an older gateway, or only
    # events so far), and the reports then guess from the station's id
    Column("kind", String(16), nullable=True),  # rack | sink | disinfect
    Column("zone", String(16), nullable=True),  # a colour key of sebiao_common.domain
    Column("first_seen", BigInteger, nullable=False),  # cloud clock: when the cloud first heard of it
    Column("last_ts", BigInteger, nullable=True),  # the newest status' ts (gateway clock); NULL: none yet
    Column("online", Boolean, nullable=True),  # that status' online; NULL: none yet
    CheckConstraint("kind IN ('rack', 'sink', 'disinfect')", name="kind"),
)

cycles = Table(  # disinfection cycles of probed stations, with the gateway's verdict (migration 0009)
    "cycles", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("station", String(32), nullable=False),
    Column("boot", String(8), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("start", BigInteger, nullable=False),  # station clock, ms
    Column("ts", BigInteger, nullable=False),  # the cycle's end
    Column("method", String(16), nullable=False),  # cabinet | boiling | dishwasher | hot_wash
    Column("temp_c", Float, nullable=False),  # the threshold it was judged by
    Column("hold_required_s", Integer, nullable=False),
    Column("max_temp_dc", Integer, nullable=False),  # tenths of °C
    Column("hold_s", Integer, nullable=False),  # the longest continuous hold at or above temp_c
    Column("passed", Boolean, nullable=False),
    Column("tools", Text, nullable=False),  # JSON list of the tool ids in the cycle
    Column("received_at", BigInteger, nullable=False),  # cloud clock
    UniqueConstraint("workshop_id", "station", "boot", "seq", name="uq_cycles_key"),
    Index("ix_cycles_workshop_ts", "workshop_id", "ts"),
)

evidence_log = Table(  # append-only, hash-chained (cloud_ingest/store/evidence.py)
    "evidence_log", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("workshop_id", String(32), nullable=False),
    Column("alarm_id", Integer, nullable=True),
    Column("body", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_evidence_log_alarm_id", "alarm_id"),  # an alarm's entries, for `sebiao cloud verify`
)

evidence_checkpoints = Table(  # signed heads of the chain, append-only (cloud_ingest/store/anchor.py)
    "evidence_checkpoints", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # the chain's newest entry when signed
    Column("hash", String(64), nullable=False),  # and its hash
    Column("at", BigInteger, nullable=False),  # cloud clock
    Column("key_id", String(16), nullable=False),  # which signing key (anchor.key_id)
    Column("signature", Text, nullable=False),  # Ed25519, base64
)

signed_batches = Table(  # each stored batch as the gateway signed it, append-only (cloud_ingest/store/signed.py)
    "signed_batches", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("workshop_id", String(32), nullable=False),
    Column("batch", String(64), nullable=False),  # the gateway's batch id
    Column("token_id", Integer, nullable=False),  # the gateway token it came with
    Column("key_id", String(16), nullable=False),  # that token's key (batch_signature.key_id)
    Column("digest", String(64), nullable=False),  # sha256 hex of the inflated body
    Column("signature", Text, nullable=False),  # Ed25519, base64
    Column("body", LargeBinary, nullable=False),  # the body as received (gzip)
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("workshop_id", "batch", name="uq_signed_batches_key"),
)

influx_outbox = Table(  # line protocol waiting for the central InfluxDB (cloud_ingest/influx/outbox.py)
    "influx_outbox", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("workshop_id", String(32), nullable=False),
    Column("created", BigInteger, nullable=False),  # cloud clock, ms
    Column("line", Text, nullable=False),
)

# The workshop's setup as evidence (cloud_ingest/setups; docs/cloud-ingest.md, "The setup as evidence").
setups = Table(  # every version of a workshop's setup (stations, tools, rules, exceptions), as its gateway sent it
    "setups", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("version", BigInteger, nullable=False),  # the gateway's: 1, 2, ...
    Column("at", BigInteger, nullable=False),  # when the gateway first ran with it (gateway clock)
    Column("hash", String(64), nullable=False),  # SHA-256 of ``setup``, checked on ingest
    Column("setup", Text, nullable=False),  # canonical JSON
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("workshop_id", "version", name="uq_setups_key"),
)

setup_acceptances = Table(  # the district inspector's acceptance (备案) of a setup version's relaxations
    "setup_acceptances", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    UniqueConstraint("workshop_id", "version", name="uq_setup_acceptances_key"),
)

silenced_alarms = Table(  # alarms a recorded exception stopped at the gateway; counted until accepted
    "silenced_alarms", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("tool", String(32), nullable=True),
    Column("tag", String(20), nullable=True),
    Column("station", String(32), nullable=True),
    Column("ts", BigInteger, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("text_zh", Text, nullable=False),
    Column("text_en", Text, nullable=False),
    Column("exception", Text, nullable=False),  # canonical JSON of the exception as the setup holds it
    Column("setup_version", BigInteger, nullable=True),  # the setup in force; NULL: not known
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("workshop_id", "type", "subject", "ts", name="uq_silenced_alarms_key"),
)

# The regulator's desk (migration 0012): a workshop's registration record, and its gateway's training records.
WORKSHOP_CATEGORIES = ("raw_animal", "aquatic", "plant", "liangpi", "liangao", "youmian", "other")

workshop_records = Table(  # every version of a workshop's record (登记信息), append-only: the newest is current
    "workshop_records", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False, index=True),
    Column("registration", String(40), nullable=True),  # 登记证号; NULL: not given (未填写)
    Column("category", String(16), nullable=True),  # WORKSHOP_CATEGORIES
    Column("category_other", Text, nullable=True),  # what an "other" workshop makes
    Column("address", Text, nullable=True),
    Column("responsible", Text, nullable=True),  # 负责人
    Column("phone", String(20), nullable=True),
    Column("inspector_id", Integer, ForeignKey("users.id"), nullable=True),  # an inspector of the district
    Column("set_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("set_at", BigInteger, nullable=False),
    CheckConstraint("category IS NULL OR category IN ('raw_animal', 'aquatic', 'plant', 'liangpi', 'liangao', "
                    "'youmian', 'other')", name="category"),
    CheckConstraint("(category_other IS NULL) = (category IS NULL OR category <> 'other')", name="category_other"),
    Column("latitude_e6", Integer), Column("longitude_e6", Integer),  # WGS-84 in 1e-6°, both or neither: 0018's CHECKs
)

trainings = Table(  # the workshop's staff training records, as its gateway recorded them (六(五))
    "trainings", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("gateway_id", BigInteger, nullable=False),  # the gateway's training id
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, the workshop's day
    Column("who", Text, nullable=False),  # who was trained: a person's name, shown to inspectors only
    Column("topic", Text, nullable=False),
    Column("trainer", Text, nullable=False),
    Column("recorded_at", BigInteger, nullable=False),  # gateway clock
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("workshop_id", "gateway_id", name="uq_trainings_key"),
    Index("ix_trainings_workshop_day", "workshop_id", "day"),
)

public_pages = Table(  # each workshop's public page (透明作坊 on the cloud): its random address (migration 0014)
    "public_pages", metadata,
    Column("workshop_id", String(32), ForeignKey("workshops.id"), primary_key=True),
    Column("slug", String(32), nullable=False, unique=True),  # random (access/public_slugs.py): not guessable
    Column("created_at", BigInteger, nullable=False),  # when this slug was made (a rotation makes a new one)
)
# the public page's "last data received" (max per workshop) is an index lookup, not a scan of its batches
Index("ix_ingest_batches_workshop_received", ingest_batches.c.workshop_id, ingest_batches.c.received_at)

# The issue ledger (挂账销号) and the per-workshop improvement plan (一坊一策), migration 0013
# (cloud_ingest/review/ledger.py, plans.py; docs/cloud-ingest.md, "The issue ledger").
LEDGER_SOURCES = ("alarm", "inspection", "report", "manual")
LEDGER_STATES = ("open", "answered", "returned", "closed")
LEDGER_ACTIONS = ("open", "answer", "close", "return")
LEDGER_CATEGORIES = ("colour_coding", "facilities", "process", "hygiene", "workwear", "records")

ledger_items = Table(  # one finding of a workshop; an alarm's item is its rectification (state, text, due, steps)
    "ledger_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False, index=True),
    Column("source", String(16), nullable=False),  # alarm | inspection | report | manual
    Column("source_ref", String(64), nullable=True),  # the alarm's id, the inspection's or report's reference
    Column("rectification_id", Integer, ForeignKey("rectifications.id"), nullable=True, unique=True),
    Column("category", String(24), nullable=True),  # LEDGER_CATEGORIES; NULL: none of them applies
    Column("severity", String(16), nullable=False),  # the alarms' severities
    Column("responsible", String(64), nullable=True),  # the workshop's person answerable for it
    Column("text", Text, nullable=True),  # NULL for an alarm's item: the rectification's note
    Column("due_at", BigInteger, nullable=True),  # NULL for an alarm's item: the rectification's deadline
    Column("state", String(16), nullable=True),  # NULL for an alarm's item: the rectification's state
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("closed_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("closed_at", BigInteger, nullable=True),
    CheckConstraint("source IN ('alarm', 'inspection', 'report', 'manual')", name="source"),
    CheckConstraint("(source = 'alarm') = (rectification_id IS NOT NULL)", name="alarm_source"),
    CheckConstraint("(rectification_id IS NULL) = (state IS NOT NULL AND text IS NOT NULL)", name="own_state"),
    CheckConstraint("state IS NULL OR state IN ('open', 'answered', 'returned', 'closed')", name="state"),
)

ledger_steps = Table(  # every step of an item that is not an alarm's (those are rectification_steps)
    "ledger_steps", metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("ledger_items.id"), nullable=False, index=True),
    Column("at", BigInteger, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("action", String(16), nullable=False),  # open | answer | close | return
    Column("state", String(16), nullable=False),  # the item's state after this step
    Column("text", Text, nullable=True),
    CheckConstraint("action IN ('open', 'answer', 'close', 'return')", name="action"),
)

ledger_photos = Table(  # the photos of an owner's answer: checked images, served only within the item's scope
    "ledger_photos", metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("ledger_items.id"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("at", BigInteger, nullable=False),  # the answer's time
    Column("content_type", String(16), nullable=False),  # image/jpeg | image/png | image/webp, by magic bytes
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),  # also in the answer's evidence entry
    Column("data", LargeBinary, nullable=False),
)

improvement_plans = Table(  # 一坊一策: one plan per workshop, made of its ledger items and goals
    "improvement_plans", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False, unique=True),
    Column("summary", Text, nullable=False),
    Column("updated_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

plan_goals = Table(  # a goal of a plan: what, by when, the ledger items it rests on, met or not
    "plan_goals", metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", Integer, ForeignKey("improvement_plans.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("target", String(10), nullable=False),  # YYYY-MM-DD, China Standard Time
    Column("items", Text, nullable=False),  # canonical JSON list of ledger item ids of the same workshop
    Column("met_at", BigInteger, nullable=True),
    Column("met_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("updated_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

from cloud_ingest.store.inspection_tables import define as _inspection_tables  # noqa: E402 - migration 0015

inspection_visits, inspection_items, inspection_photos, spot_draws = _inspection_tables(metadata)
