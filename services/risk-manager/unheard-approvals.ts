/**
 * unheardApprovals: approvals the execution engine never acknowledged. Every approved intent is
 * followed, normally within milliseconds, by an order update (sent, refused, held). One that was
 * published while no engine listened is lost, and its pending quantity would count as working
 * exposure for as long as the risk-manager runs: enough of them refuse every order (a position
 * committed to phantom sells cannot be closed; phantom buys fill the limits).
 *
 * So each approval is remembered until an order update names it. `sweep` (every few seconds)
 * takes those older than INTENT_VOID_AFTER_MS and asks Postgres: an order row means the engine
 * has it (its updates are late, not lost) and it is forgotten here; no row means it never reached
 * an engine, and it is written off: stepped as a terminal order with nothing filled, which frees
 * its pending quantity, logged and counted. If Postgres cannot answer, nothing is written off.
 */
import type pg from "pg";
import { INTENT_VOID_AFTER_MS } from "../core/intent-lifetime.ts";
import type { RiskEvent } from "./core/index.ts";

export interface UnheardApprovals {
  /** approved: an approval was published for this order. */
  approved(clientOrderId: string): void;
  /** heard: an order update named this order. */
  heard(clientOrderId: string): void;
  /** sweep writes off the approvals no engine took; resolves with their ids. */
  sweep(): Promise<string[]>;
  /** size: approvals not heard of yet. */
  readonly size: number;
}

export function unheardApprovals(o: {
  db: Pick<pg.Pool, "query">;
  step(e: RiskEvent): void;
  nowNs(): bigint;
  /** Wall clock in ms (injectable for tests). */
  nowMs?: () => number;
  voidAfterMs?: number;
}): UnheardApprovals {
  const nowMs = o.nowMs ?? Date.now;
  const voidAfterMs = o.voidAfterMs ?? INTENT_VOID_AFTER_MS;
  const since = new Map<string, number>();
  let sweeping = false;
  return {
    approved(id) {
      if (!since.has(id)) since.set(id, nowMs());
    },
    heard(id) {
      since.delete(id);
    },
    get size() {
      return since.size;
    },
    async sweep() {
      if (sweeping) return [];
      const cutoff = nowMs() - voidAfterMs;
      const old = [...since].filter(([, at]) => at <= cutoff).map(([id]) => id);
      if (old.length === 0) return [];
      sweeping = true;
      try {
        const r = await o.db.query<{ client_order_id: string }>(
          "SELECT client_order_id FROM orders WHERE client_order_id = ANY($1)",
          [old],
        );
        const stored = new Set(r.rows.map((row) => row.client_order_id));
        const lost: string[] = [];
        for (const id of old) {
          // Heard of while the query ran: the engine has it after all.
          if (!since.has(id)) continue;
          since.delete(id);
          if (stored.has(id)) continue;
          o.step({
            type: "OrderProgressed",
            timeNs: o.nowNs(),
            clientOrderId: id,
            filledQty: 0n,
            terminal: true,
          });
          lost.push(id);
        }
        return lost;
      } finally {
        sweeping = false;
      }
    },
  };
}
