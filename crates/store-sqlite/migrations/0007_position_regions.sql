-- The county a position report's feed serves (issue 7, the 72-hour trace in the console): a
-- trace analyst traces with the reports of the counties of their grants only. The county is
-- part of the key: the same subject at the same time seen by two counties' feeds is one report
-- in each, so neither county's analysts lose it. Reports stored before this migration have
-- none ('') and are read by operators only. SQLite cannot change a primary key in place: the
-- table is rebuilt.
CREATE TABLE positions_by_region (
    subject  TEXT NOT NULL,
    at       TEXT NOT NULL,
    lon      REAL NOT NULL,
    lat      REAL NOT NULL,
    source   TEXT NOT NULL,
    region   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (subject, at, region)
) WITHOUT ROWID;
INSERT INTO positions_by_region (subject, at, lon, lat, source) SELECT subject, at, lon, lat, source FROM positions;
DROP TABLE positions;
ALTER TABLE positions_by_region RENAME TO positions;
CREATE INDEX positions_at ON positions (at);
-- A tracer's trace reads the window of the counties of their grants.
CREATE INDEX positions_region_at ON positions (region, at);
