-- 0002_append_only_audit: the audit trail can only grow. UPDATE and DELETE are refused row by
-- row, TRUNCATE by a statement trigger (row triggers do not fire on TRUNCATE).
-- SQLSTATE TP002 (documented in sql/README.md).

CREATE FUNCTION tp_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'order_audit_trail is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'TP002',
          HINT = 'Record a correcting event with INSERT instead.';
END;
$$;

CREATE TRIGGER order_audit_trail_no_update_delete
  BEFORE UPDATE OR DELETE ON order_audit_trail
  FOR EACH ROW EXECUTE FUNCTION tp_refuse_audit_change();

CREATE TRIGGER order_audit_trail_no_truncate
  BEFORE TRUNCATE ON order_audit_trail
  FOR EACH STATEMENT EXECUTE FUNCTION tp_refuse_audit_change();
