-- 0008_leadership_release: a leader that gives its stage up cleanly says so.
--
-- A new leader must not act before the previous one has surely stopped: a leader acts only while
-- its last renewal is younger than a bound, and a successor waits out a longer takeover time
-- after it takes the lock (services/core/db/leadership.ts). That wait is needed only when the
-- previous leader did not release: released_at is set by a clean release and cleared whenever a
-- new leader takes over, so a restart after a clean stop starts at once.

ALTER TABLE stage_leadership ADD COLUMN released_at timestamptz;
