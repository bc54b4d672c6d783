-- 0010_pause_and_cancel_all: two operator actions besides the kill switch (which halts AND
-- cancels). Both are SECURITY DEFINER functions owned by tradepipe_owner, like
-- tp_set_kill_switch: the only way to write their columns or rows, recording who and why.
--
-- Pause new orders (risk_state.paused*): the risk manager stops approving orders that grow a
-- position (its halt of all trading); orders already working stay working. tp_set_pause
-- writes the row, stamped with the risk manager's current epoch, and NOTIFYs
-- tradepipe_pause (payload: JSON of the new state) so the running risk manager applies it at
-- once; a restart reads the columns back.
--
-- Cancel all open orders (cancel_all_requests): tp_request_cancel_all appends a request and
-- NOTIFYs tradepipe_cancel_all (payload: the request id); the execution engine cancels every
-- open order at the broker and stamps the request done (tp_finish_cancel_all). Trading goes on.

ALTER TABLE risk_state
  ADD COLUMN paused boolean NOT NULL DEFAULT false,
  ADD COLUMN paused_reason text,
  ADD COLUMN paused_changed_by text,
  ADD COLUMN paused_changed_at timestamptz;

CREATE FUNCTION tp_set_pause(paused boolean, reason text, changed_by text)
RETURNS risk_state
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  result risk_state;
BEGIN
  IF changed_by IS NULL OR changed_by = '' THEN
    RAISE EXCEPTION 'tp_set_pause: changed_by must name who pauses or resumes';
  END IF;
  UPDATE risk_state
     SET paused = tp_set_pause.paused,
         paused_reason = reason,
         paused_changed_by = changed_by,
         paused_changed_at = now(),
         fencing_epoch = coalesce(
           (SELECT l.epoch FROM stage_leadership l WHERE l.stage = 'risk-manager' FOR SHARE), 0)
   WHERE id = 1
  RETURNING * INTO result;

  PERFORM pg_notify('tradepipe_pause', json_build_object(
    'paused', result.paused,
    'reason', result.paused_reason,
    'changedBy', result.paused_changed_by,
    'changedAt', result.paused_changed_at
  )::text);
  RETURN result;
END;
$$;

CREATE TABLE cancel_all_requests (
  id bigserial PRIMARY KEY,
  requested_by text NOT NULL CHECK (requested_by <> ''),
  reason text,
  requested_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz,
  cancelled_count integer,
  error text
);

CREATE FUNCTION tp_request_cancel_all(reason text, requested_by text)
RETURNS cancel_all_requests
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  result cancel_all_requests;
BEGIN
  INSERT INTO cancel_all_requests (requested_by, reason)
  VALUES (tp_request_cancel_all.requested_by, tp_request_cancel_all.reason)
  RETURNING * INTO result;
  PERFORM pg_notify('tradepipe_cancel_all', result.id::text);
  RETURN result;
END;
$$;

CREATE FUNCTION tp_finish_cancel_all(request_id bigint, cancelled integer, failure text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  UPDATE cancel_all_requests
     SET done_at = now(), cancelled_count = cancelled, error = failure
   WHERE id = request_id AND done_at IS NULL;
$$;

ALTER TABLE cancel_all_requests OWNER TO tradepipe_owner;
ALTER FUNCTION tp_set_pause(boolean, text, text) OWNER TO tradepipe_owner;
ALTER FUNCTION tp_request_cancel_all(text, text) OWNER TO tradepipe_owner;
ALTER FUNCTION tp_finish_cancel_all(bigint, integer, text) OWNER TO tradepipe_owner;
REVOKE ALL ON FUNCTION tp_set_pause(boolean, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tp_request_cancel_all(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tp_finish_cancel_all(bigint, integer, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION tp_set_pause(boolean, text, text) TO tradepipe_risk_manager,
  tradepipe_kill_switch;
GRANT EXECUTE ON FUNCTION tp_request_cancel_all(text, text) TO tradepipe_kill_switch;
GRANT EXECUTE ON FUNCTION tp_finish_cancel_all(bigint, integer, text) TO tradepipe_execution_engine;
GRANT SELECT ON cancel_all_requests TO tradepipe_execution_engine, tradepipe_kill_switch;
