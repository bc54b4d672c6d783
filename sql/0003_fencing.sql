-- 0003_fencing: every write to a stage-owned table carries the writer's fencing epoch, and the
-- database refuses it unless that epoch is the stage's current one in stage_leadership.
-- SQLSTATE TP001 (documented in sql/README.md).
--
-- The owning stage comes from the trigger argument, or from the row's `stage` column when the
-- argument is '*' (the audit trail, which several stages append to).
--
-- IMPORTANT: the check reads the leadership row FOR SHARE. A leader change updates that row, so
-- it waits for every in-flight write of the old leader to commit, and every write that starts
-- after it sees the new epoch. Without the lock an old leader's write could check epoch 5, the
-- new leader commit epoch 6, and the old write still commit afterwards.

CREATE FUNCTION tp_check_fencing_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  owner_stage text;
  current_epoch bigint;
BEGIN
  IF TG_ARGV[0] = '*' THEN
    owner_stage := NEW.stage;
  ELSE
    owner_stage := TG_ARGV[0];
  END IF;

  SELECT epoch INTO current_epoch
    FROM stage_leadership
   WHERE stage = owner_stage
     FOR SHARE;
  -- Before any leader exists the current epoch is 0, so administrative writes stamped 0 pass.
  current_epoch := coalesce(current_epoch, 0);

  IF NEW.fencing_epoch IS DISTINCT FROM current_epoch THEN
    RAISE EXCEPTION '% fencing epoch: % on % carries epoch %, but the current epoch of stage % is %',
        CASE WHEN NEW.fencing_epoch < current_epoch THEN 'stale' ELSE 'unknown' END,
        TG_OP, TG_TABLE_NAME, coalesce(NEW.fencing_epoch::text, 'NULL'), owner_stage, current_epoch
      USING ERRCODE = 'TP001',
            DETAIL = format('stage=%s table=%s write_epoch=%s current_epoch=%s',
                            owner_stage, TG_TABLE_NAME, NEW.fencing_epoch, current_epoch),
            HINT = 'This instance is no longer the leader of its stage: stop writing and step down.';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER orders_fencing BEFORE INSERT OR UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('execution-engine');
CREATE TRIGGER fills_fencing BEFORE INSERT OR UPDATE ON fills
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('execution-engine');
CREATE TRIGGER order_audit_trail_fencing BEFORE INSERT ON order_audit_trail
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('*');
CREATE TRIGGER positions_fencing BEFORE INSERT OR UPDATE ON positions
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('position-tracker');
CREATE TRIGGER position_snapshots_fencing BEFORE INSERT OR UPDATE ON position_snapshots
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('position-tracker');
CREATE TRIGGER risk_state_fencing BEFORE INSERT OR UPDATE ON risk_state
  FOR EACH ROW EXECUTE FUNCTION tp_check_fencing_epoch('risk-manager');

-- The stage that owns each fenced table, for tools and documentation.
CREATE VIEW fenced_tables (table_name, owner_stage) AS
VALUES ('orders', 'execution-engine'),
       ('fills', 'execution-engine'),
       ('order_audit_trail', '(row''s stage column)'),
       ('positions', 'position-tracker'),
       ('position_snapshots', 'position-tracker'),
       ('risk_state', 'risk-manager');
