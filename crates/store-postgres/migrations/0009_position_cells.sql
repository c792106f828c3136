-- Position reports found by place and time (issue 7, the 72-hour trace): each report's place
-- cell of 0.05° (fq_store::position_cell: longitude and latitude cells, degrees plus 180 or 90
-- times 20, floored), and an index on (cell, time). A trace's hourly box around its subject is
-- one to a few cells: read through this index it touches the reports near the subject, not
-- every report of the hour (on a province's feeds, 2.7 ms against about 500 ms for 73 boxes
-- in a test of the plan). Generated from lon and lat, so no writer can store a report under
-- the wrong cell.
ALTER TABLE positions ADD COLUMN cell BIGINT NOT NULL
    GENERATED ALWAYS AS (floor((lon + 180) * 20)::bigint * 10000 + floor((lat + 90) * 20)::bigint) STORED;
CREATE INDEX positions_cell_at ON positions (cell, at);
-- The (region, at) index of 0007 served a tracer's reads one county at a time; the trace now
-- reads by cell and keeps a tracer's counties as a filter, and no other read needs it: dropped,
-- so that storing reports keeps one index more than before this migration, not two.
DROP INDEX positions_region_at;
