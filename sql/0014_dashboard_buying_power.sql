-- 0014_dashboard_buying_power: the dashboard's header shows the broker's buying power from the
-- newest snapshot that carries one. While few snapshots carry one (before the tracker's first
-- reconciliation read, or a history loaded without it) the planner reads every snapshot for
-- it: 0.6 s at a million snapshots on every page load. This index holds only the snapshots
-- that carry one, newest last.

CREATE INDEX portfolio_snapshots_buying_power_idx ON portfolio_snapshots (snapshot_at)
  WHERE buying_power IS NOT NULL;
