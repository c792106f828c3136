-- Position reports kept in the order a trace reads them (issue 7, the trace at a province's
-- scale): by the county of their feed, then time, then subject. A trace reads a time window of
-- some counties; with the table in that order each county's window is one range of the table
-- itself. Read through an index on time instead, every row cost a second search of the table
-- by its key (1.5 million searches for a province's 72 hours, seconds). The key is the same
-- three columns, so the same report sent again is still stored once per county. SQLite cannot
-- change a primary key in place: the table is rebuilt, and its time indexes go with it.
CREATE TABLE positions_by_place (
    subject  TEXT NOT NULL,
    at       TEXT NOT NULL,
    lon      REAL NOT NULL,
    lat      REAL NOT NULL,
    source   TEXT NOT NULL,
    region   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (region, at, subject)
) WITHOUT ROWID;
INSERT INTO positions_by_place (subject, at, lon, lat, source, region)
    SELECT subject, at, lon, lat, source, region FROM positions;
DROP TABLE positions;
ALTER TABLE positions_by_place RENAME TO positions;
