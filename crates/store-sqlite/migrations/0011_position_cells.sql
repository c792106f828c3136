-- Position reports found by place and time (issue 7, the 72-hour trace): each report's place
-- cell of 0.05° (fq_store::position_cell: longitude and latitude cells, degrees plus 180 or 90
-- times 20, truncated, which is floored for a WGS-84 point), and an index on (cell, time). A
-- trace's hourly box around its subject is one to a few cells: read through this index it
-- touches the reports near the subject, not every report of the hour. Generated from lon and
-- lat, so no writer can store a report under the wrong cell; virtual, so the table is not
-- rewritten (the index stores it).
ALTER TABLE positions ADD COLUMN cell INTEGER
    GENERATED ALWAYS AS (CAST((lon + 180) * 20 AS INTEGER) * 10000 + CAST((lat + 90) * 20 AS INTEGER)) VIRTUAL;
CREATE INDEX positions_cell_at ON positions (cell, at);
