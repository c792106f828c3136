-- Cases (SQLite). Projections of the case streams in the journal: each row is rebuilt from its
-- stream by replaying it, so these tables hold nothing the journal does not.

-- One row per case: the snapshot (the fold of the stream, JSON) and the columns lists, the
-- scheduler and the number allocator query. Times are journal times (UTC, six decimals, Z), so
-- text order is time order.
CREATE TABLE cases (
    id             TEXT    PRIMARY KEY,
    number         TEXT    NOT NULL UNIQUE,
    number_series  TEXT    NOT NULL,
    number_seq     INTEGER NOT NULL CHECK (number_seq > 0),
    programme      TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    priority       TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    unit           TEXT,
    person         TEXT,
    title          TEXT    NOT NULL,
    tier           INTEGER,
    opened_at      TEXT    NOT NULL,
    closed_at      TEXT,
    due_at         TEXT,
    next_timer_at  TEXT,
    version        INTEGER NOT NULL CHECK (version > 0),
    snapshot       TEXT    NOT NULL
);
CREATE INDEX cases_region ON cases (region, number);
CREATE INDEX cases_unit ON cases (unit, number);
CREATE INDEX cases_person ON cases (person, number) WHERE person IS NOT NULL;
CREATE INDEX cases_timer ON cases (next_timer_at) WHERE next_timer_at IS NOT NULL;
CREATE UNIQUE INDEX cases_series ON cases (number_series, number_seq);

-- Notifications to units, accounts, roles over a region, and requesters.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    recipient    TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    case_number  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient, id);

-- Running totals per handler (a unit id, or unit/person): the load dispatch balances, and the
-- counts KPIs read (cards, points, returns, ratings).
CREATE TABLE handler_tallies (
    handler         TEXT    PRIMARY KEY,
    open_load       REAL    NOT NULL DEFAULT 0,
    open_cases      INTEGER NOT NULL DEFAULT 0,
    assigned_total  INTEGER NOT NULL DEFAULT 0,
    reminders       INTEGER NOT NULL DEFAULT 0,
    yellow_cards    INTEGER NOT NULL DEFAULT 0,
    red_cards       INTEGER NOT NULL DEFAULT 0,
    points          INTEGER NOT NULL DEFAULT 0,
    returns         INTEGER NOT NULL DEFAULT 0,
    closed          INTEGER NOT NULL DEFAULT 0,
    rating_sum      INTEGER NOT NULL DEFAULT 0,
    rating_count    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- What dispatch must know about a handler: duty, capacity, qualification, skills, conflicts.
CREATE TABLE handler_profiles (
    handler    TEXT    PRIMARY KEY,
    on_duty    INTEGER NOT NULL,
    capacity   REAL,
    qualified  INTEGER NOT NULL,
    skills     TEXT    NOT NULL,
    conflicts  TEXT    NOT NULL
) WITHOUT ROWID;
