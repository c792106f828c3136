-- The console (SQLite): cards and ratings on cases for lists and figures, indexes that keep lists
-- over a million cases fast, sign-in sessions and throttling, and uploaded files.

-- Yellow and red cards raised on a case, and its rating once rated.
ALTER TABLE cases ADD COLUMN yellow_cards INTEGER NOT NULL DEFAULT 0 CHECK (yellow_cards >= 0);
ALTER TABLE cases ADD COLUMN red_cards    INTEGER NOT NULL DEFAULT 0 CHECK (red_cards >= 0);
ALTER TABLE cases ADD COLUMN rating       INTEGER CHECK (rating BETWEEN 0 AND 255);

-- One programme's cases, newest number first.
CREATE INDEX cases_programme ON cases (programme, number);
-- Oldest opening first, and periods of opening (figures, trends).
CREATE INDEX cases_opened ON cases (opened_at, number);
-- Periods of closing (trends).
CREATE INDEX cases_closed ON cases (closed_at) WHERE closed_at IS NOT NULL;
-- Open cases by deadline: those without one last (SQLite puts NULL first in ascending order and
-- an index cannot say NULLS LAST, hence the leading expression), then the earliest deadline, then
-- the newest number. A list sorted `ORDER BY due_at IS NULL, due_at, number DESC` walks it, and
-- "overdue at t" is the range `(due_at IS NULL) = 0 AND due_at < t`.
CREATE INDEX cases_due_open ON cases (due_at IS NULL, due_at, number DESC) WHERE closed_at IS NULL;

-- Console sessions. Only the hash of the cookie's secret is stored.
CREATE TABLE sessions (
    id_hash     TEXT    PRIMARY KEY,
    account     TEXT    NOT NULL REFERENCES accounts (id),
    csrf        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    revoked     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions (account);

-- Failed sign-ins per login (known account or not), for lockout.
CREATE TABLE login_throttles (
    login         TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL CHECK (failures >= 0),
    window_start  TEXT    NOT NULL,
    locked_until  TEXT
) WITHOUT ROWID;

-- Uploaded files, bytes included, so that one backup holds everything. The bytes come last:
-- reading the metadata stops before the blob's overflow pages.
CREATE TABLE attachments (
    id            TEXT    PRIMARY KEY,
    case_id       TEXT,
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL CHECK (size >= 0),
    blake3        TEXT    NOT NULL,
    uploaded_by   TEXT    NOT NULL,
    uploaded_at   TEXT    NOT NULL,
    bytes         BLOB    NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at, id) WHERE case_id IS NOT NULL;
