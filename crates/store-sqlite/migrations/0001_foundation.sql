-- fengqiao foundation schema (SQLite). Never edit a migration once it has shipped: add a new one.

-- The journal: one row per event, chained by hash. `seq` is the rowid, assigned gap-free by the
-- single writer inside the transaction that also updates the projections below.
CREATE TABLE journal (
    seq          INTEGER PRIMARY KEY CHECK (seq > 0),
    stream       TEXT    NOT NULL,
    stream_seq   INTEGER NOT NULL CHECK (stream_seq > 0),
    kind         TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    occurred_at  TEXT,
    payload      TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);
CREATE UNIQUE INDEX journal_stream ON journal (stream, stream_seq);

-- Append-only at the database level too: updates and deletes are refused. (Someone with file
-- access can drop these triggers; `fengqiao audit verify` still finds what they changed.)
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

-- The head written with every commit: lets `audit verify` notice a deleted or appended tail. The
-- row exists from the start (seq 0 = empty journal) and cannot be deleted, so a missing row is
-- itself evidence of tampering.
CREATE TABLE journal_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL CHECK (seq >= 0),
    hash  TEXT    NOT NULL
);
INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head
BEGIN SELECT RAISE(ABORT, 'the journal head cannot be deleted'); END;

CREATE TABLE regions (
    code     TEXT    PRIMARY KEY,
    name     TEXT    NOT NULL,
    level    INTEGER NOT NULL,
    parent   TEXT,
    retired  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX regions_parent ON regions (parent);

CREATE TABLE region_boundaries (
    code     TEXT PRIMARY KEY REFERENCES regions (code),
    name     TEXT NOT NULL,
    geojson  TEXT NOT NULL
);

CREATE TABLE grids (
    code       TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    region     TEXT    NOT NULL REFERENCES regions (code),
    kind       TEXT    NOT NULL,
    generated  INTEGER NOT NULL,
    min_lon    REAL    NOT NULL,
    min_lat    REAL    NOT NULL,
    max_lon    REAL    NOT NULL,
    max_lat    REAL    NOT NULL,
    geojson    TEXT    NOT NULL
);
CREATE INDEX grids_region ON grids (region);

CREATE TABLE organisations (
    id      TEXT    PRIMARY KEY,
    name    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    region  TEXT    NOT NULL REFERENCES regions (code),
    parent  TEXT    REFERENCES organisations (id),
    demo    INTEGER NOT NULL
);
CREATE INDEX organisations_region ON organisations (region);

CREATE TABLE accounts (
    id             TEXT    PRIMARY KEY,
    login          TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    org            TEXT    NOT NULL REFERENCES organisations (id),
    disabled       INTEGER NOT NULL,
    demo           INTEGER NOT NULL,
    password_hash  TEXT
);

CREATE TABLE role_grants (
    account  TEXT NOT NULL REFERENCES accounts (id),
    role     TEXT NOT NULL,
    region   TEXT NOT NULL REFERENCES regions (code),
    org      TEXT REFERENCES organisations (id)
);
CREATE UNIQUE INDEX role_grants_unique ON role_grants (account, role, region, IFNULL(org, ''));

CREATE TABLE api_tokens (
    id           TEXT    PRIMARY KEY,
    account      TEXT    NOT NULL REFERENCES accounts (id),
    label        TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT,
    revoked      INTEGER NOT NULL
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
