-- 0012_dashboard_counts: what the dashboard reads on every page load and every stream poll,
-- made cheap with a long history.
--
-- fills_rollup: per symbol and side, the number of fills, their commissions and the last
-- fill's time, kept by Postgres as fills arrive (a statement trigger merges each statement's
-- rows; an update or delete recomputes the symbols and sides it touched; a truncate empties
-- it). The header's fill count, fees and last fill age, the blotter's total for a filter and
-- the attribution's cache key read a few rows here instead of counting every fill. As with the
-- equity rollup (0011), a load with triggers off needs `SELECT tp_fills_rollup_rebuild()`.
--
-- orders (updated_at): the stream asks for the newest order change every poll (200 ms per open
-- page); without the index that reads every order. Most order updates change the status or
-- the broker id, which are indexed already, so they were not HOT updates before either.
--
-- order_audit_trail (id) of reconciliation events: the risk panel shows the last one; without
-- the index that reads the whole (append-only, ever-growing) trail when there is none.

CREATE TABLE fills_rollup (
  symbol text NOT NULL,
  side text NOT NULL,
  n bigint NOT NULL,
  commission numeric NOT NULL,
  last_filled_at timestamptz NOT NULL,
  PRIMARY KEY (symbol, side)
);

-- tp_fills_rollup_merge adds fills (parallel arrays) to the rollup.
CREATE FUNCTION tp_fills_rollup_merge(symbols text[], sides text[], commissions numeric[],
                                      filled_ats timestamptz[])
RETURNS void
LANGUAGE sql SET search_path = public, pg_temp
BEGIN ATOMIC
  INSERT INTO fills_rollup AS r (symbol, side, n, commission, last_filled_at)
  SELECT u.symbol, u.side, count(*), sum(u.commission), max(u.filled_at)
    FROM unnest(symbols, sides, commissions, filled_ats) AS u(symbol, side, commission, filled_at)
   GROUP BY 1, 2
   -- One lock order for every writer.
   ORDER BY 1, 2
  ON CONFLICT (symbol, side) DO UPDATE SET
    n = r.n + excluded.n,
    commission = r.commission + excluded.commission,
    last_filled_at = greatest(r.last_filled_at, excluded.last_filled_at);
END;

-- tp_fills_rollup_rebuild recomputes the given symbols' rows, or every row when symbols is null.
CREATE FUNCTION tp_fills_rollup_rebuild(symbols text[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM fills_rollup WHERE symbols IS NULL OR symbol = ANY (symbols);
  PERFORM tp_fills_rollup_merge(array_agg(symbol), array_agg(side), array_agg(commission),
                                array_agg(filled_at))
     FROM fills WHERE symbols IS NULL OR symbol = ANY (symbols);
END;
$$;

CREATE FUNCTION tp_fills_rollup_on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM tp_fills_rollup_merge(array_agg(symbol), array_agg(side), array_agg(commission),
                                array_agg(filled_at))
     FROM new_rows;
  RETURN NULL;
END;
$$;

CREATE FUNCTION tp_fills_rollup_on_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  symbols text[];
BEGIN
  SELECT array_agg(DISTINCT c.symbol) INTO symbols
    FROM ((SELECT id, symbol, side, commission, filled_at FROM old_rows
           EXCEPT SELECT id, symbol, side, commission, filled_at FROM new_rows)
          UNION
          (SELECT id, symbol, side, commission, filled_at FROM new_rows
           EXCEPT SELECT id, symbol, side, commission, filled_at FROM old_rows)) c;
  IF symbols IS NOT NULL THEN
    PERFORM tp_fills_rollup_rebuild(symbols);
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION tp_fills_rollup_on_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  symbols text[];
BEGIN
  SELECT array_agg(DISTINCT symbol) INTO symbols FROM old_rows;
  IF symbols IS NOT NULL THEN
    PERFORM tp_fills_rollup_rebuild(symbols);
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION tp_fills_rollup_on_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  TRUNCATE fills_rollup;
  RETURN NULL;
END;
$$;

CREATE TRIGGER fills_rollup_insert AFTER INSERT ON fills
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tp_fills_rollup_on_insert();
CREATE TRIGGER fills_rollup_update AFTER UPDATE ON fills
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tp_fills_rollup_on_update();
CREATE TRIGGER fills_rollup_delete AFTER DELETE ON fills
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tp_fills_rollup_on_delete();
CREATE TRIGGER fills_rollup_truncate AFTER TRUNCATE ON fills
  FOR EACH STATEMENT EXECUTE FUNCTION tp_fills_rollup_on_truncate();

-- Only the triggers (as the owner) write the rollup.
REVOKE EXECUTE ON FUNCTION tp_fills_rollup_merge(text[], text[], numeric[], timestamptz[]),
  tp_fills_rollup_rebuild(text[]), tp_fills_rollup_on_insert(), tp_fills_rollup_on_update(),
  tp_fills_rollup_on_delete(), tp_fills_rollup_on_truncate()
  FROM PUBLIC;

-- The fills already there.
SELECT tp_fills_rollup_rebuild();

CREATE INDEX orders_updated_at_idx ON orders (updated_at);
CREATE INDEX order_audit_trail_reconciliation_idx ON order_audit_trail (id)
  WHERE event_type ILIKE '%reconcil%';
