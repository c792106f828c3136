-- The track record of forecasts (预测检验档案, issue 7): how each forecast did once its horizon
-- was over, for one category or for every category summed (scope '*'), checked by the nightly
-- run (or a backfill) against the events stored by then. Derived data, not journaled, but kept
-- for good: the forecasts it checked are forgotten after a month, and these rows are what tell a
-- county over months how far the forecasts can be trusted. A check made again replaces its row.
CREATE TABLE risk_checks (
    county         TEXT COLLATE "C" NOT NULL,
    scope          TEXT COLLATE "C" NOT NULL,
    day            DATE NOT NULL,
    horizon_days   INTEGER NOT NULL,
    model          TEXT NOT NULL,
    checked_at     TIMESTAMPTZ NOT NULL,
    -- JSON: the categories checked and the figures, as the engine writes them.
    figures        TEXT NOT NULL,
    PRIMARY KEY (county, scope, horizon_days, day)
);
