/**
 * fault-points: where the crash-safety tests kill the engine (SIGKILL, as `kill -9` would) to
 * prove that every window of the order path recovers. Armed only by the environment variable
 * `TRADEPIPE_EXECUTION_FAULT=<point>[:<n>]` (the n-th time the point is passed, default 1); unset,
 * each point costs one comparison. Points:
 *
 * - `after_journal_append`: the order's audit records are in the journal, the POST not written;
 * - `after_socket_write`: the POST's bytes were handed to the socket (the order connection's
 *   `tradepipe.alpaca.order-written`, or undici's `bodySent`);
 * - `after_broker_answer`: the broker's answer arrived, before the engine applied it.
 */
import diagnostics from "node:diagnostics_channel";
import { TradepipeError } from "../core/errors.ts";

export type FaultPoint = "after_journal_append" | "after_socket_write" | "after_broker_answer";
const POINTS: readonly FaultPoint[] = [
  "after_journal_append",
  "after_socket_write",
  "after_broker_answer",
];

function parse(raw: string | undefined): { point: FaultPoint; count: number } | undefined {
  if (raw === undefined || raw === "") return undefined;
  const [point, n] = raw.split(":");
  const count = n === undefined ? 1 : Number(n);
  if (!POINTS.includes(point as FaultPoint) || !Number.isInteger(count) || count < 1) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `TRADEPIPE_EXECUTION_FAULT=${raw}: expected one of ${POINTS.join(", ")}, optionally :<n ≥ 1>`,
    );
  }
  return { point: point as FaultPoint, count };
}

const armed = parse(process.env.TRADEPIPE_EXECUTION_FAULT);
let remaining = armed?.count ?? 0;

/** faultPoint kills the process here when the environment armed this point. */
export function faultPoint(point: FaultPoint): void {
  if (armed === undefined || armed.point !== point) return;
  remaining--;
  if (remaining === 0) process.kill(process.pid, "SIGKILL");
}

if (armed?.point === "after_socket_write") {
  // An order goes out on a dedicated order connection (written inside postOrder, marked by its
  // own channel) or, when none is idle, through undici, which writes it one event-loop turn
  // after the call (its bodySent channel marks the moment the bytes were handed to the socket).
  diagnostics.subscribe("tradepipe.alpaca.order-written", () => faultPoint("after_socket_write"));
  diagnostics.subscribe("undici:request:bodySent", (m) => {
    const req = (m as { request: { method: string; path: string } }).request;
    if (req.method === "POST" && req.path.startsWith("/v2/orders")) {
      faultPoint("after_socket_write");
    }
  });
}
