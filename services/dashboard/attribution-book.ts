/**
 * attribution-book: the attribution's ledgers kept up with the database. Each refresh reads,
 * in one snapshot, the fills rollup and the fills above the highest id applied, lets
 * `planSync` decide which symbols extend and which replay, applies that, and writes the
 * symbols that changed to `dashboard_attribution` (sql/0015), where a restarted dashboard
 * picks them up. Refreshes run one at a time.
 */
import type pg from "pg";
import { fromDecimal } from "../core/money.ts";
import {
  type Attribution,
  type LedgerFill,
  ledgerFromJson,
  ledgerToJson,
  planSync,
  type RollupRow,
  replayLedgers,
  type SymbolLedger,
  split,
} from "./attribution.ts";
import { replayOffThread } from "./attribution-worker.ts";

/** More fills than this to apply at once go to a worker thread. */
const OFF_THREAD_FILLS = 5000;

const LEDGER_COLUMNS = `id, symbol, side, qty::text, price::text, commission::text,
  (extract(epoch FROM filled_at) * 1000000)::bigint::text AS at_us`;

function ledgerFill(r: Record<string, unknown>): LedgerFill {
  return {
    id: Number(r.id),
    atUs: BigInt(r.at_us as string),
    symbol: r.symbol as string,
    side: r.side as "buy" | "sell",
    qty: r.qty as string,
    price: r.price as string,
    commission: r.commission as string,
  };
}

/** What the last refresh did, for tests and logs. */
export interface RefreshStats {
  fillsRead: number;
  symbolsExtended: number;
  symbolsReplayed: string[];
  symbolsLoaded: number;
}

export class AttributionBook {
  readonly #db: pg.Pool;
  readonly #log: (line: string) => void;
  #ledgers = new Map<string, SymbolLedger>();
  #loaded = false;
  #version = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #persistFailed = false;
  #view?: { key: string; value: Attribution };
  last: RefreshStats = { fillsRead: 0, symbolsExtended: 0, symbolsReplayed: [], symbolsLoaded: 0 };

  constructor(db: pg.Pool, log: (line: string) => void = () => {}) {
    this.#db = db;
    this.#log = log;
  }

  /** refresh brings the ledgers up to the committed fills (queued behind a running one). */
  refresh(): Promise<RefreshStats> {
    const run = this.#queue.then(() => this.#refresh());
    this.#queue = run.catch(() => {});
    return run;
  }

  /** idle resolves when no refresh is running. */
  idle(): Promise<void> {
    return this.#queue.then(() => {});
  }

  /** attribution refreshes, then splits the P&L with the positions' current marks. */
  async attribution(): Promise<Attribution> {
    await this.refresh();
    const pos = await this.#db.query(
      "SELECT symbol, last_price::text AS last, sector FROM positions ORDER BY symbol",
    );
    const marks: Record<string, string> = {};
    const sectors: Record<string, string> = {};
    for (const p of pos.rows) {
      if (p.last !== null) marks[p.symbol] = p.last;
      if (p.sector) sectors[p.symbol] = p.sector;
    }
    const asOfDay = new Date().toISOString().slice(0, 10);
    const key = `${this.#version}|${asOfDay}|${JSON.stringify([marks, sectors])}`;
    if (this.#view?.key !== key) {
      this.#view = { key, value: split(this.#ledgers, { marks, sectors, asOfDay }) };
    }
    return this.#view.value;
  }

  async #refresh(): Promise<RefreshStats> {
    const stats: RefreshStats = {
      fillsRead: 0,
      symbolsExtended: 0,
      symbolsReplayed: [],
      symbolsLoaded: 0,
    };
    if (!this.#loaded) stats.symbolsLoaded = await this.#load();
    const client = await this.#db.connect();
    let newRows: LedgerFill[];
    let replayRows: LedgerFill[] = [];
    let plan: ReturnType<typeof planSync>;
    try {
      // One snapshot: the rollup and the fills agree with each other. The statements go as
      // one simple query (one round trip); the watermark is an integer of our own.
      const watermark = Math.max(0, ...[...this.#ledgers.values()].map((l) => l.maxId));
      const [, rollup, fresh] = (await client.query(
        `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
         SELECT symbol, side, n::int AS n, commission::text AS commission,
                (extract(epoch FROM last_filled_at) * 1000000)::bigint::text AS last_us
           FROM fills_rollup;
         SELECT ${LEDGER_COLUMNS} FROM fills WHERE id > ${Math.trunc(watermark)}`,
      )) as unknown as pg.QueryResult[];
      newRows = fresh!.rows.map(ledgerFill);
      plan = planSync(
        this.#ledgers,
        rollup!.rows.map(
          (r): RollupRow => ({
            symbol: r.symbol,
            side: r.side,
            n: r.n,
            commission: fromDecimal(r.commission),
            lastAtUs: BigInt(r.last_us),
          }),
        ),
        newRows,
      );
      if (plan.replay.length > 0) {
        replayRows = (
          await client.query(`SELECT ${LEDGER_COLUMNS} FROM fills WHERE symbol = ANY ($1)`, [
            plan.replay,
          ])
        ).rows.map(ledgerFill);
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    stats.fillsRead = newRows.length + replayRows.length;
    stats.symbolsExtended = plan.extend.size;
    stats.symbolsReplayed = plan.replay;
    const base = new Map<string, SymbolLedger>();
    let fills = replayRows;
    for (const [symbol, adds] of plan.extend) {
      base.set(symbol, this.#ledgers.get(symbol)!);
      fills = fills.concat(adds);
    }
    const changed =
      fills.length > OFF_THREAD_FILLS
        ? await replayOffThread(base, fills)
        : replayLedgers(base, fills);
    // A symbol to replay whose fills are gone by now has nothing left.
    const gone = [...plan.drop, ...plan.replay.filter((s) => !changed.has(s))];
    for (const s of gone) this.#ledgers.delete(s);
    for (const [s, l] of changed) this.#ledgers.set(s, l);
    if (changed.size > 0 || gone.length > 0) {
      this.#version += 1;
      await this.#persist(changed, gone);
    }
    this.last = stats;
    return stats;
  }

  /** #load reads the state a previous dashboard left; a row that does not parse is ignored. */
  async #load(): Promise<number> {
    try {
      const res = await this.#db.query("SELECT symbol, state FROM dashboard_attribution");
      for (const r of res.rows) {
        const l = ledgerFromJson(r.state);
        if (l) this.#ledgers.set(r.symbol, l);
      }
    } catch (err) {
      this.#log(`dashboard: attribution starts without its saved state: ${String(err)}`);
    }
    this.#loaded = true;
    return this.#ledgers.size;
  }

  /** #persist writes the changed symbols; without the table or the right, it works from memory. */
  async #persist(changed: Map<string, SymbolLedger>, gone: string[]): Promise<void> {
    try {
      if (changed.size > 0) {
        await this.#db.query(
          `INSERT INTO dashboard_attribution AS a (symbol, state)
           SELECT * FROM unnest($1::text[], $2::jsonb[]) ORDER BY 1
           ON CONFLICT (symbol) DO UPDATE SET state = excluded.state, updated_at = now()`,
          [[...changed.keys()], [...changed.values()].map((l) => JSON.stringify(ledgerToJson(l)))],
        );
      }
      if (gone.length > 0) {
        await this.#db.query("DELETE FROM dashboard_attribution WHERE symbol = ANY ($1)", [gone]);
      }
    } catch (err) {
      if (!this.#persistFailed) {
        this.#log(`dashboard: attribution state not saved (kept in memory): ${String(err)}`);
      }
      this.#persistFailed = true;
    }
  }
}
