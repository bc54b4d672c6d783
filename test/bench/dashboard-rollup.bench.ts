/**
 * What the dashboard's rollups (sql/0011, sql/0012) cost the writers and save the reader:
 *   - a portfolio snapshot inserted as the position tracker does (one row, one statement),
 *     and a fill as the execution engine does, with the rollup triggers on; baseline: the
 *     same insert with the rollup triggers disabled, interleaved in the same run;
 *   - the equity panel at a 1200-pixel chart over N snapshots read from the rollup; baseline:
 *     the same buckets grouped from every snapshot (what each request did before the rollup);
 *   - the header's fill count and fees from the fills rollup; baseline: counted over every fill.
 *
 *   npm run bench -- dashboard-rollup                 # 1M snapshots, 100k fills
 *   node_modules/.bin/node test/bench/dashboard-rollup.bench.ts --snapshots 100000 --inserts 500
 */
import { parseArgs } from "node:util";
import { strideFor } from "../../services/dashboard/downsample.ts";
import { aggregate, equityPanel } from "../../services/dashboard/equity.ts";
import { seedPipeline } from "../dashboard/fixture.ts";
import { withMigratedDatabase } from "../support/pg.ts";

const { values: args } = parseArgs({
  options: {
    fills: { type: "string", default: "100000" },
    snapshots: { type: "string", default: "1000000" },
    inserts: { type: "string", default: "300" },
    reads: { type: "string", default: "7" },
  },
});
const FILLS = Number(args.fills);
const SNAPSHOTS = Number(args.snapshots);
const INSERTS = Number(args.inserts);
const READS = Number(args.reads);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
const line = (label: string, xs: number[]) =>
  console.log(
    `${label.padEnd(52)} p50 ${pct(xs, 50).toFixed(2).padStart(8)} ms  p95 ${pct(xs, 95)
      .toFixed(2)
      .padStart(8)} ms  (n=${xs.length})`,
  );
const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const db = await withMigratedDatabase();
try {
  const seeded = performance.now();
  await seedPipeline(db.pool, { fills: FILLS, snapshots: SNAPSHOTS });
  await db.pool.query("ANALYZE");
  console.log(
    `seeded ${FILLS} fills, ${SNAPSHOTS} snapshots (rollups built by their triggers) in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
  );

  // Writers: one row per statement, as the stages write; on and off interleaved.
  const snapOn: number[] = [];
  const snapOff: number[] = [];
  const fillOn: number[] = [];
  const fillOff: number[] = [];
  const last = await db.pool.query("SELECT max(snapshot_at) AS at FROM portfolio_snapshots");
  let at = new Date(last.rows[0].at).getTime();
  const snapshot = () => {
    at += 1000;
    return db.pool.query(
      `INSERT INTO portfolio_snapshots (snapshot_at, cash, equity, peak_equity, realized_pnl,
                                        unrealized_pnl, fencing_epoch)
       VALUES ($1, 50000, $2, 101000, 0, 0, 1) ON CONFLICT (snapshot_at) DO NOTHING`,
      [new Date(at), 100000 + (at % 997)],
    );
  };
  let n = 0;
  const fill = () => {
    n += 1;
    return db.pool.query(
      `INSERT INTO fills (execution_id, client_order_id, symbol, side, qty, price, commission,
                          filled_at, fencing_epoch)
       VALUES ($1, 'ord-1', 'AAPL', 'buy', 1, 100, 0.01, now(), 1)`,
      [`bench-${process.pid}-${n}`],
    );
  };
  const triggers = (on: boolean) =>
    db.pool.query(
      `ALTER TABLE portfolio_snapshots ${on ? "ENABLE" : "DISABLE"} TRIGGER portfolio_snapshots_rollup_insert;
       ALTER TABLE fills ${on ? "ENABLE" : "DISABLE"} TRIGGER fills_rollup_insert`,
    );
  // Blocks of 30 with the triggers on, then off; the first 5 of a block are not counted (an
  // ALTER TABLE drops the session's cached plans, and the next inserts plan again).
  for (let i = 0; i < INSERTS; i += 25) {
    const on = (i / 25) % 2 === 0;
    await triggers(on);
    for (let j = 0; j < 30; j += 1) {
      const s = await timed(snapshot);
      const f = await timed(fill);
      if (j < 5) continue;
      (on ? snapOn : snapOff).push(s);
      (on ? fillOn : fillOff).push(f);
    }
  }
  await triggers(true);
  // The rows written with the triggers off are not in the rollups: rebuild before reading.
  await db.pool.query("SELECT tp_equity_rollup_rebuild(); SELECT tp_fills_rollup_rebuild()");

  console.log(
    `\nwriters (one row per statement, the rollup triggers on vs off, in alternating blocks):`,
  );
  line("  baseline: snapshot insert, rollup trigger off", snapOff);
  line("  snapshot insert, rollup trigger on", snapOn);
  line("  baseline: fill insert, rollup trigger off", fillOff);
  line("  fill insert, rollup trigger on", fillOn);

  // Reader: the equity panel of a 1200-px chart.
  const span = await db.pool.query(
    `SELECT (extract(epoch FROM min(snapshot_at)) * 1000)::float8 AS t0,
            (extract(epoch FROM max(snapshot_at)) * 1000)::float8 AS t1 FROM portfolio_snapshots`,
  );
  const stride = strideFor(Number(span.rows[0].t0), Number(span.rows[0].t1), 1200);
  const fromRollup: number[] = [];
  const fullGroup: number[] = [];
  const countRollup: number[] = [];
  const countAll: number[] = [];
  for (let i = 0; i < READS; i += 1) {
    fromRollup.push(await timed(() => equityPanel(db.pool, 1200, null)));
    fullGroup.push(await timed(() => aggregate(db.pool, stride, "-infinity")));
    countRollup.push(
      await timed(() =>
        db.pool.query(
          "SELECT coalesce(sum(n), 0) AS n, coalesce(sum(commission), 0) AS fees, max(last_filled_at) FROM fills_rollup",
        ),
      ),
    );
    countAll.push(
      await timed(() =>
        db.pool.query(
          "SELECT count(*) AS n, coalesce(sum(commission), 0) AS fees, max(filled_at) FROM fills",
        ),
      ),
    );
  }
  console.log(`\nreader (${SNAPSHOTS} snapshots, ${FILLS} fills, stride ${stride} ms):`);
  line("  baseline: equity buckets grouped from every snapshot", fullGroup);
  line("  equity panel from the rollup", fromRollup);
  line("  baseline: fill count and fees over every fill", countAll);
  line("  fill count and fees from the rollup", countRollup);
} finally {
  await db.drop();
}
