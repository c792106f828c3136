-- Risk events (issue 7): one row per event of a source, unique by the source's own id (ingesting
-- a file again stores nothing twice); read by region subtree and time.
CREATE TABLE risk_events (
    source       TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    lon          REAL,
    lat          REAL,
    region       TEXT NOT NULL,
    grid         TEXT,
    category     TEXT NOT NULL,
    severity     INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    text         TEXT NOT NULL,
    PRIMARY KEY (source, source_id)
) WITHOUT ROWID;
CREATE INDEX risk_events_county ON risk_events (substr(region, 1, 6), occurred_at);
