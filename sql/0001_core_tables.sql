-- 0001_core_tables: the trading state of one pipeline.
-- Money, prices and quantities use tp_decimal: NUMERIC with 9 decimal places, the same scale as
-- services/core/money.ts, so a value round-trips between the database and Fixed exactly.

CREATE DOMAIN tp_decimal AS numeric(38, 9);

-- One row per stage: who leads it and under which fencing epoch (see sql/README.md).
CREATE TABLE stage_leadership (
  stage text PRIMARY KEY,
  holder text NOT NULL,
  epoch bigint NOT NULL CHECK (epoch >= 1),
  acquired_at timestamptz NOT NULL DEFAULT now(),
  renewed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_order_id text NOT NULL,
  broker_order_id text,
  signal_id text,
  correlation_id text NOT NULL,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  order_type text NOT NULL CHECK (order_type IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop')),
  time_in_force text NOT NULL DEFAULT 'day' CHECK (time_in_force IN ('day', 'gtc', 'opg', 'cls', 'ioc', 'fok')),
  qty tp_decimal NOT NULL CHECK (qty > 0),
  limit_price tp_decimal CHECK (limit_price > 0),
  stop_price tp_decimal CHECK (stop_price > 0),
  status text NOT NULL DEFAULT 'created' CHECK (status IN (
    'created', 'submitted', 'new', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired'
  )),
  filled_qty tp_decimal NOT NULL DEFAULT 0 CHECK (filled_qty >= 0 AND filled_qty <= qty),
  filled_avg_price tp_decimal,
  reject_reason text,
  fencing_epoch bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_client_order_id_key UNIQUE (client_order_id)
);
CREATE UNIQUE INDEX orders_broker_order_id_key ON orders (broker_order_id) WHERE broker_order_id IS NOT NULL;
CREATE INDEX orders_symbol_idx ON orders (symbol);
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_correlation_id_idx ON orders (correlation_id);
-- Open orders are looked up on every restart and when the kill switch engages.
CREATE INDEX orders_open_idx ON orders (symbol) WHERE status IN ('created', 'submitted', 'new', 'partially_filled');

CREATE TABLE fills (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The broker's execution id: a redelivered trade update inserts nothing the second time.
  execution_id text NOT NULL,
  client_order_id text NOT NULL REFERENCES orders (client_order_id),
  broker_order_id text,
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  qty tp_decimal NOT NULL CHECK (qty > 0),
  price tp_decimal NOT NULL CHECK (price > 0),
  commission tp_decimal NOT NULL DEFAULT 0,
  filled_at timestamptz NOT NULL,
  fencing_epoch bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT fills_execution_id_key UNIQUE (execution_id)
);
CREATE INDEX fills_client_order_id_idx ON fills (client_order_id);
CREATE INDEX fills_symbol_idx ON fills (symbol);
CREATE INDEX fills_filled_at_idx ON fills (filled_at);

-- Current position per symbol; qty is signed (negative = short). A closed position keeps its row
-- with qty 0 so its realized P&L survives.
CREATE TABLE positions (
  symbol text PRIMARY KEY,
  qty tp_decimal NOT NULL DEFAULT 0,
  avg_entry_price tp_decimal NOT NULL DEFAULT 0,
  last_price tp_decimal,
  realized_pnl tp_decimal NOT NULL DEFAULT 0,
  unrealized_pnl tp_decimal NOT NULL DEFAULT 0,
  sector text,
  opened_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  fencing_epoch bigint NOT NULL
);
CREATE INDEX positions_open_idx ON positions (symbol) WHERE qty <> 0;

CREATE TABLE position_snapshots (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  snapshot_at timestamptz NOT NULL,
  symbol text NOT NULL,
  qty tp_decimal NOT NULL,
  avg_entry_price tp_decimal NOT NULL,
  last_price tp_decimal,
  market_value tp_decimal,
  realized_pnl tp_decimal NOT NULL,
  unrealized_pnl tp_decimal NOT NULL,
  fencing_epoch bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT position_snapshots_at_symbol_key UNIQUE (snapshot_at, symbol)
);
CREATE INDEX position_snapshots_symbol_idx ON position_snapshots (symbol, snapshot_at);

-- Every order event, in order, written before the action it records (intent before send).
-- Append-only: see 0002_append_only_audit.sql.
CREATE TABLE order_audit_trail (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stage text NOT NULL,
  event_type text NOT NULL,
  correlation_id text NOT NULL,
  client_order_id text,
  broker_order_id text,
  symbol text,
  from_status text,
  to_status text,
  reason text,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Time of the event as the stage saw it (event time, from its input) and when it was stored.
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  fencing_epoch bigint NOT NULL
);
CREATE INDEX order_audit_trail_correlation_id_idx ON order_audit_trail (correlation_id);
CREATE INDEX order_audit_trail_client_order_id_idx ON order_audit_trail (client_order_id);
CREATE INDEX order_audit_trail_created_at_idx ON order_audit_trail (created_at);
CREATE INDEX order_audit_trail_symbol_idx ON order_audit_trail (symbol, occurred_at);

-- The risk manager's persistent state: one row (id = 1), created here.
CREATE TABLE risk_state (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  kill_switch_engaged boolean NOT NULL DEFAULT false,
  kill_switch_reason text,
  kill_switch_changed_by text,
  kill_switch_changed_at timestamptz,
  circuit_state text NOT NULL DEFAULT 'closed' CHECK (circuit_state IN ('closed', 'open', 'half_open')),
  circuit_changed_at timestamptz,
  trading_day date,
  daily_realized_pnl tp_decimal NOT NULL DEFAULT 0,
  equity_peak tp_decimal,
  updated_at timestamptz NOT NULL DEFAULT now(),
  fencing_epoch bigint NOT NULL DEFAULT 0
);
INSERT INTO risk_state (id) VALUES (1);

-- updated_at follows every UPDATE without each writer having to remember it.
CREATE FUNCTION tp_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

CREATE TRIGGER orders_touch_updated_at BEFORE UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION tp_touch_updated_at();
CREATE TRIGGER positions_touch_updated_at BEFORE UPDATE ON positions
  FOR EACH ROW EXECUTE FUNCTION tp_touch_updated_at();
CREATE TRIGGER risk_state_touch_updated_at BEFORE UPDATE ON risk_state
  FOR EACH ROW EXECUTE FUNCTION tp_touch_updated_at();
