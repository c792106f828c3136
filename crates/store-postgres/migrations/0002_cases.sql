-- Cases (PostgreSQL). Projections of the case streams in the journal: each row is rebuilt from its
-- stream by replaying it, so these tables hold nothing the journal does not.
-- Columns that lists order or page by, or select subtrees of (number, region, handler), use the
-- "C" collation so that they sort by bytes, as on SQLite, whatever the database's default.

-- One row per case: the snapshot (the fold of the stream, JSON text) and the columns lists, the
-- scheduler and the number allocator query.
CREATE TABLE cases (
    id             UUID             PRIMARY KEY,
    number         TEXT COLLATE "C" NOT NULL UNIQUE,
    number_series  TEXT             NOT NULL,
    number_seq     BIGINT           NOT NULL CHECK (number_seq > 0),
    programme      TEXT             NOT NULL,
    kind           TEXT             NOT NULL,
    state          TEXT             NOT NULL,
    priority       TEXT             NOT NULL,
    region         TEXT COLLATE "C" NOT NULL,
    unit           UUID,
    person         UUID,
    title          TEXT             NOT NULL,
    tier           BIGINT,
    opened_at      TIMESTAMPTZ      NOT NULL,
    closed_at      TIMESTAMPTZ,
    due_at         TIMESTAMPTZ,
    next_timer_at  TIMESTAMPTZ,
    version        BIGINT           NOT NULL CHECK (version > 0),
    snapshot       TEXT             NOT NULL
);
CREATE INDEX cases_region ON cases (region, number);
CREATE INDEX cases_unit ON cases (unit, number);
CREATE INDEX cases_person ON cases (person, number) WHERE person IS NOT NULL;
CREATE INDEX cases_timer ON cases (next_timer_at) WHERE next_timer_at IS NOT NULL;
CREATE UNIQUE INDEX cases_series ON cases (number_series, number_seq);

-- Notifications to units, accounts, roles over a region, and requesters. `id` is the insertion
-- order (newest last).
CREATE TABLE notifications (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient    TEXT        NOT NULL,
    case_id      UUID        NOT NULL,
    case_number  TEXT        NOT NULL,
    reason       TEXT        NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient, id);

-- Running totals per handler (a unit id, or unit/person): the load dispatch balances, and the
-- counts KPIs read (cards, points, returns, ratings).
CREATE TABLE handler_tallies (
    handler         TEXT COLLATE "C" PRIMARY KEY,
    open_load       DOUBLE PRECISION NOT NULL DEFAULT 0,
    open_cases      BIGINT           NOT NULL DEFAULT 0,
    assigned_total  BIGINT           NOT NULL DEFAULT 0,
    reminders       BIGINT           NOT NULL DEFAULT 0,
    yellow_cards    BIGINT           NOT NULL DEFAULT 0,
    red_cards       BIGINT           NOT NULL DEFAULT 0,
    points          BIGINT           NOT NULL DEFAULT 0,
    returns         BIGINT           NOT NULL DEFAULT 0,
    closed          BIGINT           NOT NULL DEFAULT 0,
    rating_sum      BIGINT           NOT NULL DEFAULT 0,
    rating_count    BIGINT           NOT NULL DEFAULT 0
);

-- What dispatch must know about a handler: duty, capacity, qualification, skills, conflicts.
CREATE TABLE handler_profiles (
    handler    TEXT COLLATE "C" PRIMARY KEY,
    on_duty    BOOLEAN          NOT NULL,
    capacity   DOUBLE PRECISION,
    qualified  BOOLEAN          NOT NULL,
    skills     TEXT[]           NOT NULL,
    conflicts  TEXT[]           NOT NULL
);
