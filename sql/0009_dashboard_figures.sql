-- 0009_dashboard_figures: two figures the stages compute and the dashboard shows, recorded
-- where the dashboard reads.
--
-- risk_state.value_at_risk_99: the risk manager's current one-day 99% VaR of the book (its
-- historical simulation, the figure it checks `maxVar99` against), written with the rest of the
-- row whenever it changes.
--
-- portfolio_snapshots.buying_power: the broker account's buying power as the position tracker
-- last read it (GET /v2/account, at each reconciliation), stamped on every snapshot after it;
-- null until the first read.

ALTER TABLE risk_state ADD COLUMN value_at_risk_99 tp_decimal;
ALTER TABLE portfolio_snapshots ADD COLUMN buying_power tp_decimal;
