/**
 * readiness: the answer to "may this process trade now?". A process either registers named
 * checks on a Readiness (each set ok or not-ok with a reason as its state changes) or supplies
 * its own function. Pure: no I/O.
 */

export interface CheckState {
  ok: boolean;
  reason?: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** Why not ready, one line per failing check ("name: reason"); empty when ready. */
  reasons: string[];
  checks: Record<string, CheckState>;
}

/** ReadinessSource is what the health server accepts: a Readiness or a function. */
export type ReadinessSource =
  | Readiness
  | (() =>
      | boolean
      | Pick<ReadinessReport, "ready" | "reasons">
      | Promise<boolean | Pick<ReadinessReport, "ready" | "reasons">>);

/** Readiness holds named checks; ready when every declared check is ok. */
export interface Readiness {
  /** Declares checks that start not ready ("pending"), e.g. at process start. */
  declare(...names: string[]): void;
  set(name: string, ok: boolean, reason?: string): void;
  /** Removes a check (e.g. a feature turned off). */
  remove(name: string): void;
  report(): ReadinessReport;
}

/** createReadiness makes an empty Readiness (ready until a check is declared or set). */
export function createReadiness(): Readiness {
  const checks = new Map<string, CheckState>();
  return {
    declare(...names) {
      for (const n of names) if (!checks.has(n)) checks.set(n, { ok: false, reason: "pending" });
    },
    set(name, ok, reason) {
      checks.set(name, ok ? { ok } : { ok, reason: reason ?? "not ready" });
    },
    remove(name) {
      checks.delete(name);
    },
    report() {
      const snapshot: Record<string, CheckState> = {};
      const reasons: string[] = [];
      for (const [name, state] of [...checks].sort(([a], [b]) => a.localeCompare(b))) {
        snapshot[name] = { ...state };
        if (!state.ok) reasons.push(`${name}: ${state.reason ?? "not ready"}`);
      }
      return { ready: reasons.length === 0, reasons, checks: snapshot };
    },
  };
}

/** evaluateReadiness runs a ReadinessSource; a throwing function counts as not ready. */
export async function evaluateReadiness(
  source: ReadinessSource | undefined,
): Promise<ReadinessReport> {
  if (source === undefined) return { ready: true, reasons: [], checks: {} };
  if (typeof source !== "function") return source.report();
  try {
    const r = await source();
    if (typeof r === "boolean") {
      return { ready: r, reasons: r ? [] : ["not ready"], checks: {} };
    }
    const reasons = r.ready ? [] : r.reasons.length > 0 ? r.reasons : ["not ready"];
    return { ready: r.ready, reasons, checks: {} };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ready: false, reasons: [`readiness check failed: ${message}`], checks: {} };
  }
}
