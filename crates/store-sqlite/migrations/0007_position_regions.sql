-- The county a position report's feed serves (issue 7, the 72-hour trace in the console): a
-- risk analyst traces with the reports of the counties in their scope only. Reports stored
-- before this migration have none ('') and are read by operators only.
ALTER TABLE positions ADD COLUMN region TEXT NOT NULL DEFAULT '';
