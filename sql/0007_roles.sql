-- 0007_roles: least privilege in the database. Until here every stage connected as the role that
-- owns the schema (often a superuser): with a stage's URL, `COPY … TO PROGRAM` ran a command as
-- the database's OS user and `SET session_replication_role = replica` switched the append-only
-- audit trigger off.
--
-- Roles (cluster-wide, so created only when missing; NOLOGIN: nobody logs in as them):
--   tradepipe_owner             owns every table, function and type; migrations run as it
--   tradepipe_market_data, tradepipe_signal_bridge, tradepipe_risk_manager,
--   tradepipe_execution_engine, tradepipe_position_tracker
--                               what each stage may do; a stage's LOGIN role is made a member
--                               (`CREATE ROLE … LOGIN IN ROLE tradepipe_risk_manager`)
--   tradepipe_kill_switch       may call tp_set_kill_switch and read risk_state (operators, CLI)
--
-- None of them is a superuser or has pg_execute_server_program, so COPY TO PROGRAM and
-- session_replication_role are refused to every stage. The audit trail is INSERT-only for the
-- stages (no UPDATE, DELETE or TRUNCATE privilege, besides the trigger). The kill switch
-- columns of risk_state are written only by tp_set_kill_switch, a SECURITY DEFINER function
-- owned by tradepipe_owner.

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['tradepipe_owner', 'tradepipe_market_data', 'tradepipe_signal_bridge',
      'tradepipe_risk_manager', 'tradepipe_execution_engine', 'tradepipe_position_tracker',
      'tradepipe_kill_switch'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database of this server created it meanwhile
      END;
    END IF;
  END LOOP;
END;
$$;

-- The migrating session may act as the owner (a superuser already may).
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'tradepipe_owner', 'MEMBER') THEN
    EXECUTE format('GRANT tradepipe_owner TO %I', current_user);
  END IF;
END;
$$;

-- Nobody but the grants below: PUBLIC may not create in the schema or call our functions.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;

ALTER DOMAIN tp_decimal OWNER TO tradepipe_owner;
ALTER TABLE stage_leadership OWNER TO tradepipe_owner;
ALTER TABLE leadership_group OWNER TO tradepipe_owner;
ALTER TABLE orders OWNER TO tradepipe_owner;
ALTER TABLE fills OWNER TO tradepipe_owner;
ALTER TABLE positions OWNER TO tradepipe_owner;
ALTER TABLE position_snapshots OWNER TO tradepipe_owner;
ALTER TABLE portfolio_snapshots OWNER TO tradepipe_owner;
ALTER TABLE order_audit_trail OWNER TO tradepipe_owner;
ALTER TABLE risk_state OWNER TO tradepipe_owner;
ALTER FUNCTION tp_touch_updated_at() OWNER TO tradepipe_owner;
ALTER FUNCTION tp_refuse_audit_change() OWNER TO tradepipe_owner;
ALTER FUNCTION tp_check_fencing_epoch() OWNER TO tradepipe_owner;
ALTER FUNCTION tp_set_kill_switch(boolean, text, text) OWNER TO tradepipe_owner;
ALTER VIEW fenced_tables OWNER TO tradepipe_owner;

-- The fencing check reads stage_leadership FOR SHARE, which needs more than a stage may have
-- on another stage's row: it runs as the owner.
ALTER FUNCTION tp_check_fencing_epoch() SECURITY DEFINER SET search_path = public, pg_temp;
-- The kill switch: the only way to change its columns.
ALTER FUNCTION tp_set_kill_switch(boolean, text, text)
  SECURITY DEFINER SET search_path = public, pg_temp;

-- Every stage: its own leadership, the colocated pod's group, the Lease handshake in a pod
-- (engages the kill switch, counts open orders), the pipeline's column types.
GRANT USAGE ON SCHEMA public TO tradepipe_market_data, tradepipe_signal_bridge,
  tradepipe_risk_manager, tradepipe_execution_engine, tradepipe_position_tracker,
  tradepipe_kill_switch;
GRANT USAGE ON DOMAIN tp_decimal TO tradepipe_market_data, tradepipe_signal_bridge,
  tradepipe_risk_manager, tradepipe_execution_engine, tradepipe_position_tracker;
GRANT SELECT, INSERT, UPDATE ON stage_leadership, leadership_group TO tradepipe_market_data,
  tradepipe_signal_bridge, tradepipe_risk_manager, tradepipe_execution_engine,
  tradepipe_position_tracker;
GRANT SELECT ON orders TO tradepipe_market_data, tradepipe_signal_bridge,
  tradepipe_risk_manager, tradepipe_position_tracker;
GRANT EXECUTE ON FUNCTION tp_set_kill_switch(boolean, text, text) TO tradepipe_market_data,
  tradepipe_signal_bridge, tradepipe_risk_manager, tradepipe_execution_engine,
  tradepipe_position_tracker, tradepipe_kill_switch;
GRANT SELECT ON risk_state TO tradepipe_kill_switch;

-- risk-manager: its state row, except the kill switch columns; open orders and positions.
GRANT SELECT ON risk_state, positions TO tradepipe_risk_manager;
GRANT UPDATE (circuit_state, circuit_changed_at, trading_day, daily_realized_pnl, equity_peak,
  core_state, fencing_epoch, updated_at) ON risk_state TO tradepipe_risk_manager;

-- execution-engine: orders, fills, the audit trail (append only), the kill switch state.
GRANT SELECT, INSERT, UPDATE ON orders TO tradepipe_execution_engine;
GRANT SELECT, INSERT ON fills TO tradepipe_execution_engine;
GRANT SELECT, INSERT ON order_audit_trail TO tradepipe_execution_engine;
GRANT SELECT ON risk_state TO tradepipe_execution_engine;

-- position-tracker: positions and snapshots; the fills it rebuilds from.
GRANT SELECT, INSERT, UPDATE ON positions TO tradepipe_position_tracker;
GRANT SELECT, INSERT ON position_snapshots, portfolio_snapshots TO tradepipe_position_tracker;
GRANT SELECT ON fills TO tradepipe_position_tracker;
