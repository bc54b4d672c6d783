-- 0004_kill_switch: engaging or releasing the kill switch from outside the risk manager (the
-- CLI, the operator, an HTTP call). The kill switch must work with or without a leader, so this
-- function stamps the write with the risk manager's current epoch itself, and announces the
-- change on channel tradepipe_kill_switch (payload: JSON of the new state) so the running
-- risk manager reacts at once instead of polling.

CREATE FUNCTION tp_set_kill_switch(engaged boolean, reason text, changed_by text)
RETURNS risk_state
LANGUAGE plpgsql AS $$
DECLARE
  result risk_state;
BEGIN
  UPDATE risk_state
     SET kill_switch_engaged = engaged,
         kill_switch_reason = reason,
         kill_switch_changed_by = changed_by,
         kill_switch_changed_at = now(),
         fencing_epoch = coalesce(
           (SELECT l.epoch FROM stage_leadership l WHERE l.stage = 'risk-manager' FOR SHARE), 0)
   WHERE id = 1
  RETURNING * INTO result;

  PERFORM pg_notify('tradepipe_kill_switch', json_build_object(
    'engaged', result.kill_switch_engaged,
    'reason', result.kill_switch_reason,
    'changedBy', result.kill_switch_changed_by,
    'changedAt', result.kill_switch_changed_at
  )::text);
  RETURN result;
END;
$$;
