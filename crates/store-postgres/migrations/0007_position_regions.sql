-- The county a position report's feed serves (issue 7, the 72-hour trace in the console): a
-- trace analyst traces with the reports of the counties of their grants only. The county is
-- part of the key: the same subject at the same time seen by two counties' feeds is one report
-- in each, so neither county's analysts lose it. Reports stored before this migration have
-- none ('') and are read by operators only.
ALTER TABLE positions ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE positions DROP CONSTRAINT positions_pkey;
ALTER TABLE positions ADD PRIMARY KEY (subject, at, region);
-- A tracer's trace reads the window of the counties of their grants.
CREATE INDEX positions_region_at ON positions (region, at);
