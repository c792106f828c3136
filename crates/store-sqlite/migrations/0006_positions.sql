-- Position reports (issue 7, the 72-hour trace of P6): AIS, Beidou terminals, checkpoint logs.
-- One row per subject (an MMSI, a terminal, a person's checkpoint id) and time: the same report
-- sent again is stored once. Read by time window for a trace and its contacts.
CREATE TABLE positions (
    subject  TEXT NOT NULL,
    at       TEXT NOT NULL,
    lon      REAL NOT NULL,
    lat      REAL NOT NULL,
    source   TEXT NOT NULL,
    PRIMARY KEY (subject, at)
) WITHOUT ROWID;
CREATE INDEX positions_at ON positions (at);
