-- Risk events (issue 7): one row per event of a source, unique by the source's own id (ingesting
-- a file again stores nothing twice); read by region subtree and time.
CREATE TABLE risk_events (
    source       TEXT COLLATE "C" NOT NULL,
    source_id    TEXT COLLATE "C" NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    lon          DOUBLE PRECISION,
    lat          DOUBLE PRECISION,
    region       TEXT COLLATE "C" NOT NULL,
    grid         TEXT,
    category     TEXT NOT NULL,
    severity     SMALLINT NOT NULL CHECK (severity BETWEEN 1 AND 4),
    text         TEXT NOT NULL,
    PRIMARY KEY (source, source_id)
);
CREATE INDEX risk_events_county ON risk_events (substr(region, 1, 6), occurred_at);
