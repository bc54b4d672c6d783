/**
 * attribution-worker: replays fills off the server's event loop. The first replay of a long
 * history (100k fills: a second or more) must not hold up the live stream and every other
 * request; the small increments after it run inline.
 */
import { parentPort, Worker } from "node:worker_threads";
import { type LedgerFill, replayLedgers, type SymbolLedger } from "./attribution.ts";

interface ReplayRequest {
  base: Map<string, SymbolLedger>;
  fills: LedgerFill[];
}

if (parentPort) {
  const port = parentPort;
  port.on("message", (r: ReplayRequest) => port.postMessage(replayLedgers(r.base, r.fills)));
}

/** replayOffThread runs `replayLedgers` in a short-lived worker thread. */
export function replayOffThread(
  base: Map<string, SymbolLedger>,
  fills: LedgerFill[],
): Promise<Map<string, SymbolLedger>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url));
    worker.once("message", (m: Map<string, SymbolLedger>) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.postMessage({ base, fills } satisfies ReplayRequest);
  });
}
