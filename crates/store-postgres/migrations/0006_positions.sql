-- Position reports (issue 7, the 72-hour trace of P6): AIS, Beidou terminals, checkpoint logs.
-- One row per subject (an MMSI, a terminal, a person's checkpoint id) and time: the same report
-- sent again is stored once. Read by time window for a trace and its contacts.
CREATE TABLE positions (
    subject  TEXT COLLATE "C" NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    lon      DOUBLE PRECISION NOT NULL,
    lat      DOUBLE PRECISION NOT NULL,
    source   TEXT NOT NULL,
    PRIMARY KEY (subject, at)
);
CREATE INDEX positions_at ON positions (at);
