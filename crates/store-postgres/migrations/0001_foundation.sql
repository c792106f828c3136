-- fengqiao foundation schema (PostgreSQL). Never edit a migration once it has shipped: add a new one.
-- Region-code columns use the "C" collation so that `code >= '3310' AND code < '3310:'` selects a
-- subtree through the index, whatever the database's default collation.

CREATE TABLE journal (
    seq          BIGINT      PRIMARY KEY CHECK (seq > 0),
    stream       TEXT        NOT NULL,
    stream_seq   BIGINT      NOT NULL CHECK (stream_seq > 0),
    kind         TEXT        NOT NULL,
    actor        TEXT        NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    occurred_at  TIMESTAMPTZ,
    payload      TEXT        NOT NULL,
    prev_hash    TEXT        NOT NULL,
    hash         TEXT        NOT NULL
);
CREATE UNIQUE INDEX journal_stream ON journal (stream, stream_seq);

CREATE FUNCTION fq_journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only';
END
$$;
CREATE TRIGGER journal_no_change BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION fq_journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION fq_journal_append_only();

-- The head row is the journal's lock: every writing transaction takes it FOR UPDATE before it
-- appends, so server processes append one at a time and sequence numbers stay gap-free.
CREATE TABLE journal_head (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),
    seq   BIGINT   NOT NULL CHECK (seq >= 0),
    hash  TEXT     NOT NULL
);
INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));
CREATE FUNCTION fq_journal_head_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal head cannot be deleted';
END
$$;
CREATE TRIGGER journal_head_no_delete BEFORE DELETE ON journal_head
    FOR EACH ROW EXECUTE FUNCTION fq_journal_head_kept();
CREATE TRIGGER journal_head_no_truncate BEFORE TRUNCATE ON journal_head
    FOR EACH STATEMENT EXECUTE FUNCTION fq_journal_head_kept();

CREATE TABLE regions (
    code     TEXT COLLATE "C" PRIMARY KEY,
    name     TEXT     NOT NULL,
    level    SMALLINT NOT NULL,
    parent   TEXT COLLATE "C",
    retired  BOOLEAN  NOT NULL DEFAULT FALSE
);
CREATE INDEX regions_parent ON regions (parent);

CREATE TABLE region_boundaries (
    code     TEXT COLLATE "C" PRIMARY KEY REFERENCES regions (code),
    name     TEXT NOT NULL,
    geojson  TEXT NOT NULL
);

CREATE TABLE grids (
    code       TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT             NOT NULL,
    region     TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    kind       TEXT             NOT NULL,
    generated  BOOLEAN          NOT NULL,
    min_lon    DOUBLE PRECISION NOT NULL,
    min_lat    DOUBLE PRECISION NOT NULL,
    max_lon    DOUBLE PRECISION NOT NULL,
    max_lat    DOUBLE PRECISION NOT NULL,
    geojson    TEXT             NOT NULL
);
CREATE INDEX grids_region ON grids (region);

CREATE TABLE organisations (
    id      UUID    PRIMARY KEY,
    name    TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    region  TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    parent  UUID    REFERENCES organisations (id),
    demo    BOOLEAN NOT NULL
);
CREATE INDEX organisations_region ON organisations (region);

CREATE TABLE accounts (
    id             UUID    PRIMARY KEY,
    login          TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    org            UUID    NOT NULL REFERENCES organisations (id),
    disabled       BOOLEAN NOT NULL,
    demo           BOOLEAN NOT NULL,
    password_hash  TEXT
);

CREATE TABLE role_grants (
    account  UUID NOT NULL REFERENCES accounts (id),
    role     TEXT NOT NULL,
    region   TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    org      UUID REFERENCES organisations (id)
);
CREATE UNIQUE INDEX role_grants_unique ON role_grants (account, role, region, COALESCE(org, '00000000-0000-0000-0000-000000000000'));

CREATE TABLE api_tokens (
    id           UUID        PRIMARY KEY,
    account      UUID        NOT NULL REFERENCES accounts (id),
    label        TEXT        NOT NULL,
    secret_hash  TEXT        NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked      BOOLEAN     NOT NULL
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
