-- The console (PostgreSQL): cards and ratings on cases for lists and figures, indexes that keep
-- lists over a million cases fast, sign-in sessions and throttling, and uploaded files.
-- Keys compared or sorted as text (session hashes, logins) use the "C" collation, as in 0002.

-- Yellow and red cards raised on a case, and its rating once rated. Constant defaults: adding
-- the columns does not rewrite the table.
ALTER TABLE cases
    ADD COLUMN yellow_cards  BIGINT   NOT NULL DEFAULT 0 CHECK (yellow_cards >= 0),
    ADD COLUMN red_cards     BIGINT   NOT NULL DEFAULT 0 CHECK (red_cards >= 0),
    ADD COLUMN rating        SMALLINT CHECK (rating BETWEEN 0 AND 255);

-- One programme's cases, newest number first.
CREATE INDEX cases_programme ON cases (programme, number);
-- Oldest opening first, and periods of opening (figures, trends).
CREATE INDEX cases_opened ON cases (opened_at, number);
-- Periods of closing (trends).
CREATE INDEX cases_closed ON cases (closed_at) WHERE closed_at IS NOT NULL;
-- Open cases by deadline, in the order of a list sorted by it: the earliest deadline first,
-- none last (ascending puts NULL last), then the newest number. "Overdue at t" is a range of it.
CREATE INDEX cases_due_open ON cases (due_at ASC NULLS LAST, number DESC) WHERE closed_at IS NULL;

-- Console sessions. Only the hash of the cookie's secret is stored.
CREATE TABLE sessions (
    id_hash     TEXT COLLATE "C" PRIMARY KEY,
    account     UUID             NOT NULL REFERENCES accounts (id),
    csrf        TEXT             NOT NULL,
    created_at  TIMESTAMPTZ      NOT NULL,
    expires_at  TIMESTAMPTZ      NOT NULL,
    revoked     BOOLEAN          NOT NULL
);
CREATE INDEX sessions_account ON sessions (account);

-- Failed sign-ins per login (known account or not), for lockout.
CREATE TABLE login_throttles (
    login         TEXT COLLATE "C" PRIMARY KEY,
    failures      BIGINT           NOT NULL CHECK (failures >= 0),
    window_start  TIMESTAMPTZ      NOT NULL,
    locked_until  TIMESTAMPTZ
);

-- Uploaded files, bytes included, so that one backup holds everything. Large values live in the
-- TOAST table: reading the metadata does not fetch them.
CREATE TABLE attachments (
    id            UUID        PRIMARY KEY,
    case_id       UUID,
    name          TEXT        NOT NULL,
    content_type  TEXT        NOT NULL,
    size          BIGINT      NOT NULL CHECK (size >= 0),
    blake3        TEXT        NOT NULL,
    uploaded_by   TEXT        NOT NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL,
    bytes         BYTEA       NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, uploaded_at, id) WHERE case_id IS NOT NULL;
