-- 0006_leadership_group: the stages of one colocated pod lead together.
--
-- A colocated pod runs all five stages and joins them with ipc:// sockets inside the pod, so a
-- pipeline whose market-data leads in one pod and whose signal-bridge leads in another would
-- send nothing. The pods' stages therefore first agree which pod (the "group") leads: one
-- session of that pod, the anchor, holds the session advisory lock
-- hashtextextended('tradepipe.group', 0) and records its group and backend pid here. A stage
-- competes for its own stage lock only while the recorded anchor still holds that lock and the
-- recorded group is its own; a leading stage steps down when that stops being true.
-- One row (id = 1); absent until a colocated pod first leads.

CREATE TABLE leadership_group (
  id integer PRIMARY KEY CHECK (id = 1),
  holder text NOT NULL,
  anchor_pid integer NOT NULL,
  epoch bigint NOT NULL CHECK (epoch >= 1),
  acquired_at timestamptz NOT NULL DEFAULT now()
);
