-- Case lists (PostgreSQL) of one city, county or town, newest number first, over a million cases: a region
-- subtree is a range of codes, and a range cannot give the number order, so each of these levels
-- has an index on its code prefix (queries write the same `substr` expression). `closed_at`
-- rides along so that "open only" is checked in the index before the row is read.
CREATE INDEX cases_city   ON cases (programme, substr(region, 1, 4), number, closed_at);
CREATE INDEX cases_county ON cases (programme, substr(region, 1, 6), number, closed_at);
CREATE INDEX cases_town   ON cases (programme, substr(region, 1, 9), number, closed_at);
