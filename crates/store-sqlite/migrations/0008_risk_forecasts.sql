-- Stored forecasts (issue 7): our model's expected counts per cell for a county, a category, a
-- first day and a horizon, fitted on the events stored before that day. Written by the nightly
-- whistle (a week from the day of the run) and by the first process that draws a forecast map
-- nobody stored yet, so that every server process shows the same numbers without fitting again.
-- Derived data, not journaled: it can always be fitted again from the events. One row per key;
-- a later fit over more stored events, or by another model (an upgrade), replaces it: the count
-- and the model are how a reader knows a row is still the forecast of what is stored now. The
-- nightly run forgets rows older than a month.
CREATE TABLE risk_forecasts (
    county         TEXT NOT NULL,
    category       TEXT NOT NULL,
    day            TEXT NOT NULL,
    horizon_days   INTEGER NOT NULL,
    model          TEXT NOT NULL,
    stored_events  INTEGER NOT NULL,
    made_at        TEXT NOT NULL,
    -- JSON: [[lon, lat, expected], ...] per study cell.
    cells          TEXT NOT NULL,
    PRIMARY KEY (county, category, day, horizon_days)
) WITHOUT ROWID;
