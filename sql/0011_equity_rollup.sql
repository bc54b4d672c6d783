-- 0011_equity_rollup: the equity curve pre-aggregated for the dashboard's charts, kept by
-- Postgres as snapshots arrive.
--
-- The dashboard draws portfolio_snapshots as min/max per pixel column: per time bucket the
-- count, the first and last point and the lowest and highest equity and drawdown. With a long
-- history (a million snapshots) grouping every row on each request takes seconds, so the same
-- figures are kept here per bucket, at fixed widths (equity_rollup_widths: round steps from
-- 10 s to 1 day, each a multiple of 5 s dividing the day, buckets aligned to the epoch
-- as date_bin cuts them). A chart reads one bucket per pixel column from the width it needs
-- (or merges days for wider strides): a few hundred rows by primary key, however long the
-- history.
--
-- Kept exact by triggers on portfolio_snapshots:
--   - INSERT (the position tracker's only write): the statement's new rows are grouped per
--     width and bucket and merged in (counts added, lows and highs by least/greatest, the first
--     and last point by time), so snapshots arriving out of order or in bulk are counted the
--     same as one by one;
--   - UPDATE that changes a snapshot's time, equity or peak, and DELETE: every bucket of the
--     days touched is recomputed from the snapshots (rare: no stage updates or deletes them);
--   - TRUNCATE empties the rollup.
-- The triggers fire as for the fencing check: a bulk load with triggers off
-- (session_replication_role = replica) leaves the rollup behind; `SELECT
-- tp_equity_rollup_rebuild()` recomputes it all.
--
-- Drawdown is the one the position tracker records with each snapshot:
-- (equity - peak_equity) / peak_equity, 0 without a positive peak (tp_snapshot_drawdown).

CREATE FUNCTION tp_snapshot_drawdown(equity numeric, peak_equity numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN peak_equity > 0 THEN (equity - peak_equity) / peak_equity ELSE 0 END;

CREATE TABLE equity_rollup_widths (
  width_ms bigint PRIMARY KEY CHECK (width_ms % 5000 = 0 AND 86400000 % width_ms = 0 AND width_ms > 0)
);
INSERT INTO equity_rollup_widths (width_ms)
VALUES (10000), (15000), (30000), (60000), (120000), (300000), (600000), (900000), (1800000),
       (3600000), (7200000), (10800000), (21600000), (43200000), (86400000);
ANALYZE equity_rollup_widths;

CREATE TABLE portfolio_equity_rollup (
  width_ms bigint NOT NULL,
  bucket_at timestamptz NOT NULL,
  n bigint NOT NULL,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  first_equity numeric NOT NULL,
  last_equity numeric NOT NULL,
  lo_equity numeric NOT NULL,
  hi_equity numeric NOT NULL,
  first_drawdown numeric NOT NULL,
  last_drawdown numeric NOT NULL,
  lo_drawdown numeric NOT NULL,
  hi_drawdown numeric NOT NULL,
  PRIMARY KEY (width_ms, bucket_at)
);

-- tp_equity_rollup_merge adds snapshots (parallel arrays: time, equity, peak) to the rollup.
-- Snapshots without an equity are not part of the series. The snapshots are grouped once into
-- 5 s buckets (every width is a multiple of 5 s), and those into each width's buckets: a bulk
-- load groups a fifth of its rows per width or fewer, not all of them. The planner cannot see
-- how long the arrays are (it guesses 10 elements), so nested loops are ruled out: they would
-- compare every bucket with every snapshot of a bulk load.
CREATE FUNCTION tp_equity_rollup_merge(ats timestamptz[], equities numeric[], peaks numeric[])
RETURNS void
LANGUAGE sql SET search_path = public, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
  WITH p AS MATERIALIZED (
    SELECT u.at, u.equity, tp_snapshot_drawdown(u.equity, u.peak) AS dd
      FROM unnest(ats, equities, peaks) AS u(at, equity, peak)
     WHERE u.equity IS NOT NULL
  ), fine AS MATERIALIZED (
    SELECT g.*, f.equity AS first_equity, f.dd AS first_drawdown,
           l.equity AS last_equity, l.dd AS last_drawdown
      FROM (SELECT date_bin(interval '5 s', at, timestamptz 'epoch') AS bucket_at,
                   count(*) AS n, min(at) AS first_at, max(at) AS last_at,
                   min(equity) AS lo_equity, max(equity) AS hi_equity,
                   min(dd) AS lo_drawdown, max(dd) AS hi_drawdown
              FROM p GROUP BY 1) g
      JOIN p f ON f.at = g.first_at
      JOIN p l ON l.at = g.last_at
  ), g AS (
    SELECT w.width_ms,
           date_bin(w.width_ms * interval '1 millisecond', fine.bucket_at, timestamptz 'epoch') AS bucket_at,
           sum(fine.n) AS n, min(fine.first_at) AS first_at, max(fine.last_at) AS last_at,
           min(fine.lo_equity) AS lo_equity, max(fine.hi_equity) AS hi_equity,
           min(fine.lo_drawdown) AS lo_drawdown, max(fine.hi_drawdown) AS hi_drawdown
      FROM fine CROSS JOIN equity_rollup_widths w
     GROUP BY 1, 2
  )
  INSERT INTO portfolio_equity_rollup AS r
         (width_ms, bucket_at, n, first_at, last_at, first_equity, last_equity, lo_equity,
          hi_equity, first_drawdown, last_drawdown, lo_drawdown, hi_drawdown)
  SELECT g.width_ms, g.bucket_at, g.n, g.first_at, g.last_at, f.first_equity, l.last_equity,
         g.lo_equity, g.hi_equity, f.first_drawdown, l.last_drawdown, g.lo_drawdown,
         g.hi_drawdown
    FROM g JOIN fine f ON f.first_at = g.first_at JOIN fine l ON l.last_at = g.last_at
   -- One lock order for every writer.
   ORDER BY g.width_ms, g.bucket_at
  ON CONFLICT (width_ms, bucket_at) DO UPDATE SET
    n = r.n + excluded.n,
    first_at = least(r.first_at, excluded.first_at),
    first_equity = CASE WHEN excluded.first_at < r.first_at THEN excluded.first_equity ELSE r.first_equity END,
    first_drawdown = CASE WHEN excluded.first_at < r.first_at THEN excluded.first_drawdown ELSE r.first_drawdown END,
    last_at = greatest(r.last_at, excluded.last_at),
    last_equity = CASE WHEN excluded.last_at > r.last_at THEN excluded.last_equity ELSE r.last_equity END,
    last_drawdown = CASE WHEN excluded.last_at > r.last_at THEN excluded.last_drawdown ELSE r.last_drawdown END,
    lo_equity = least(r.lo_equity, excluded.lo_equity),
    hi_equity = greatest(r.hi_equity, excluded.hi_equity),
    lo_drawdown = least(r.lo_drawdown, excluded.lo_drawdown),
    hi_drawdown = greatest(r.hi_drawdown, excluded.hi_drawdown);
END;

-- tp_equity_rollup_rebuild recomputes the rollup of the given days (the starts of the widest
-- buckets: every narrower bucket lies within one), or of everything when days is null.
CREATE FUNCTION tp_equity_rollup_rebuild(days timestamptz[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  widest interval := (SELECT max(width_ms) FROM equity_rollup_widths) * interval '1 millisecond';
BEGIN
  IF days IS NULL THEN
    DELETE FROM portfolio_equity_rollup;
    PERFORM tp_equity_rollup_merge(array_agg(snapshot_at), array_agg(equity), array_agg(peak_equity))
       FROM portfolio_snapshots;
    RETURN;
  END IF;
  DELETE FROM portfolio_equity_rollup r
   USING unnest(days) AS d(day)
   WHERE r.bucket_at >= d.day AND r.bucket_at < d.day + widest;
  PERFORM tp_equity_rollup_merge(array_agg(s.snapshot_at), array_agg(s.equity), array_agg(s.peak_equity))
     FROM (SELECT DISTINCT day FROM unnest(days) AS d(day)) d
     JOIN portfolio_snapshots s ON s.snapshot_at >= d.day AND s.snapshot_at < d.day + widest;
END;
$$;

CREATE FUNCTION tp_equity_rollup_on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM tp_equity_rollup_merge(array_agg(snapshot_at), array_agg(equity), array_agg(peak_equity))
     FROM new_rows;
  RETURN NULL;
END;
$$;

-- The days whose series changed: snapshots whose (time, equity, peak) are in one of old and
-- new but not the other. An update of another column (buying_power) changes nothing.
CREATE FUNCTION tp_equity_rollup_on_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  widest interval := (SELECT max(width_ms) FROM equity_rollup_widths) * interval '1 millisecond';
  days timestamptz[];
BEGIN
  SELECT array_agg(DISTINCT date_bin(widest, c.snapshot_at, timestamptz 'epoch')) INTO days
    FROM ((SELECT snapshot_at, equity, peak_equity FROM old_rows
           EXCEPT SELECT snapshot_at, equity, peak_equity FROM new_rows)
          UNION
          (SELECT snapshot_at, equity, peak_equity FROM new_rows
           EXCEPT SELECT snapshot_at, equity, peak_equity FROM old_rows)) c;
  IF days IS NOT NULL THEN
    PERFORM tp_equity_rollup_rebuild(days);
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION tp_equity_rollup_on_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  widest interval := (SELECT max(width_ms) FROM equity_rollup_widths) * interval '1 millisecond';
  days timestamptz[];
BEGIN
  SELECT array_agg(DISTINCT date_bin(widest, snapshot_at, timestamptz 'epoch')) INTO days
    FROM old_rows;
  IF days IS NOT NULL THEN
    PERFORM tp_equity_rollup_rebuild(days);
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION tp_equity_rollup_on_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  TRUNCATE portfolio_equity_rollup;
  RETURN NULL;
END;
$$;

CREATE TRIGGER portfolio_snapshots_rollup_insert AFTER INSERT ON portfolio_snapshots
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tp_equity_rollup_on_insert();
CREATE TRIGGER portfolio_snapshots_rollup_update AFTER UPDATE ON portfolio_snapshots
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tp_equity_rollup_on_update();
CREATE TRIGGER portfolio_snapshots_rollup_delete AFTER DELETE ON portfolio_snapshots
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tp_equity_rollup_on_delete();
CREATE TRIGGER portfolio_snapshots_rollup_truncate AFTER TRUNCATE ON portfolio_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION tp_equity_rollup_on_truncate();

-- Only the triggers (as the owner) write the rollup.
REVOKE EXECUTE ON FUNCTION tp_equity_rollup_merge(timestamptz[], numeric[], numeric[]),
  tp_equity_rollup_rebuild(timestamptz[]), tp_equity_rollup_on_insert(),
  tp_equity_rollup_on_update(), tp_equity_rollup_on_delete(), tp_equity_rollup_on_truncate()
  FROM PUBLIC;

-- The snapshots already there.
SELECT tp_equity_rollup_rebuild();
