-- 0015_dashboard_attribution: the dashboard's P&L attribution carried across restarts.
--
-- The attribution replays the fills at average cost. Fills are append-only, so the dashboard
-- keeps the replay's state per symbol (the position, the realized P&L and fees booked so far
-- per side and day, and a tally of the fills applied) and applies only the fills after it.
-- It writes that state here whenever it changes, so a restarted dashboard starts from it
-- instead of replaying every fill. The state is checked against fills_rollup before use (the
-- count, commissions and last fill time per side): a symbol whose state is not that of its
-- fills (fills committed since, a database restored) is replayed from its first fill.
-- Deleting every row is always safe: the next request replays.

CREATE TABLE dashboard_attribution (
  symbol text PRIMARY KEY,
  -- services/dashboard/attribution.ts ledgerToJson: bigints as decimal strings, version "v".
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
