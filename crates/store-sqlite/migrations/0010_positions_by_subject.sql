-- A trace first reads its subject's own reports (issue 7): by subject and time, not by a walk
-- over every county's window. The table is kept by county, time and subject (0009); this index
-- finds one subject's reports across the counties.
CREATE INDEX positions_subject_at ON positions (subject, at);
