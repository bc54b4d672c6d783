-- 0005_stage_state: what the risk manager and the position tracker need to restart exactly.
--
-- risk_state.core_state: the risk manager's persisted core state (halts, breaker failures, the
-- trading day's P&L baseline, reject counters) as JSON. The kill switch columns stay the source
-- of truth for the kill switch: tp_set_kill_switch writes them, and a restart reads them over
-- whatever core_state says.
--
-- portfolio_snapshots: the position tracker's account-level snapshot beside the per-symbol rows
-- of position_snapshots; a restart takes the equity peak and the drawdown alert from the latest.

ALTER TABLE risk_state ADD COLUMN core_state jsonb;

CREATE TABLE portfolio_snapshots (
  snapshot_at timestamptz PRIMARY KEY,
  cash tp_decimal,
  equity tp_decimal,
  peak_equity tp_decimal,
  realized_pnl tp_decimal NOT NULL,
  unrealized_pnl tp_decimal NOT NULL,
  drawdown_alerted boolean NOT NULL DEFAULT false,
  fencing_epoch bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER portfolio_snapshots_fencing BEFORE INSERT OR UPDATE ON portfolio_snapshots
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('position-tracker');

CREATE OR REPLACE VIEW fenced_tables (table_name, owner_stage) AS
VALUES ('orders', 'execution-engine'),
       ('fills', 'execution-engine'),
       ('order_audit_trail', '(row''s stage column)'),
       ('positions', 'position-tracker'),
       ('position_snapshots', 'position-tracker'),
       ('portfolio_snapshots', 'position-tracker'),
       ('risk_state', 'risk-manager');
