/**
 * status-screen renders the live status of a local pipeline: pure `renderStatus` turns a
 * snapshot into lines; `StatusView` redraws them in place on a terminal, or writes one log line
 * per interval when stdout is not a terminal (CI, pipes, files).
 */
import { formatDecimalMoney, formatDecimalPrice } from "../core/money.ts";

export interface StageStatusLine {
  name: string;
  up: boolean;
  ready: boolean;
  restarts: number;
  detail?: string;
}

export interface PositionLine {
  symbol: string;
  qty: string;
  avgPrice: string;
  unrealizedPnl: string;
}

export interface PipelineStatus {
  pipeline: string;
  mode: "processes" | "fused";
  broker: string;
  uptimeSeconds: number;
  stages: StageStatusLine[];
  ordersSent: number;
  fills: number;
  rejects: number;
  /** Refusals by reason code (the risk-manager's reason codes); shown most frequent first. */
  rejectsByReason?: Record<string, number>;
  positions: PositionLine[];
  realizedPnl: string;
  unrealizedPnl: string;
  circuitBreaker: string;
  killSwitch: boolean;
  /** The database: reachable or not, in one line (e.g. the embedded server restarted). */
  database?: { ok: boolean; line: string };
  message?: string;
}

const mark = (ok: boolean) => (ok ? "●" : "○");

/** Money in cents and prices at their tick for people; a value that is not a decimal is shown as is. */
function money(text: string): string {
  try {
    return formatDecimalMoney(text);
  } catch {
    return text;
  }
}

function price(text: string): string {
  try {
    return formatDecimalPrice(text);
  } catch {
    return text;
  }
}

export function renderStatus(s: PipelineStatus): string[] {
  const lines = [
    `tradepipe · pipeline ${s.pipeline} · ${s.mode} · broker ${s.broker} · up ${formatDuration(s.uptimeSeconds)}`,
    "",
    "stage              up  ready  restarts  detail",
  ];
  for (const st of s.stages) {
    lines.push(
      `${st.name.padEnd(18)} ${mark(st.up)}   ${mark(st.ready)}      ${String(st.restarts).padStart(8)}  ${st.detail ?? ""}`.trimEnd(),
    );
  }
  lines.push(
    "",
    `orders ${s.ordersSent}   fills ${s.fills}   rejects ${s.rejects}${topReasons(s, " (", ")", " ", ", ")}   realized P&L ${money(s.realizedPnl)}   unrealized P&L ${money(s.unrealizedPnl)}`,
    `circuit breaker ${s.circuitBreaker}   kill switch ${s.killSwitch ? "ENGAGED" : "off"}`,
    ...(s.database ? [`database ${mark(s.database.ok)} ${s.database.line}`] : []),
    "",
  );
  if (s.positions.length === 0) {
    lines.push("no open positions");
  } else {
    lines.push("symbol       qty    avg price  unrealized P&L");
    for (const p of s.positions) {
      lines.push(
        `${p.symbol.padEnd(8)} ${p.qty.padStart(7)} ${price(p.avgPrice).padStart(12)} ${money(p.unrealizedPnl).padStart(15)}`,
      );
    }
  }
  if (s.message) lines.push("", s.message);
  return lines;
}

/** renderLogLine is the one-line form for non-terminals. */
export function renderLogLine(s: PipelineStatus): string {
  const stages = s.stages
    .map((st) => `${st.name}=${st.up ? (st.ready ? "ready" : "up") : "down"}`)
    .join(" ");
  return `status ${stages} orders=${s.ordersSent} fills=${s.fills} rejects=${s.rejects}${topReasons(s, " rejectReasons=", "", ":", ",")} positions=${s.positions.length} realized=${money(s.realizedPnl)} unrealized=${money(s.unrealizedPnl)} breaker=${s.circuitBreaker} killSwitch=${s.killSwitch ? "on" : "off"}${s.database ? ` database=${s.database.ok ? "up" : "down"}` : ""}`;
}

/**
 * topReasons: the three most frequent refusal reasons, e.g. " (max_var99 12, crosses_zero 3)"
 * for the screen; "" when there are none. Why nothing trades is the first thing asked.
 */
function topReasons(
  s: PipelineStatus,
  open: string,
  close: string,
  sep: string,
  join: string,
): string {
  const top = Object.entries(s.rejectsByReason ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3);
  return top.length === 0
    ? ""
    : `${open}${top.map(([r, n]) => `${r}${sep}${n}`).join(join)}${close}`;
}

export function formatDuration(totalSeconds: number): string {
  const s = Math.floor(totalSeconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec).padStart(2, "0")}s`;
}

export class StatusView {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #drawnLines = 0;

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY) && process.env.TERM !== "dumb";
  }

  get isTerminal(): boolean {
    return this.#tty;
  }

  show(status: PipelineStatus): void {
    if (!this.#tty) {
      this.#out.write(`${renderLogLine(status)}\n`);
      return;
    }
    const lines = renderStatus(status);
    // Move up over the previous frame and clear each line, so the screen redraws in place.
    let frame = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F` : "";
    for (const line of lines) frame += `\x1b[2K${line}\n`;
    for (let i = lines.length; i < this.#drawnLines; i++) frame += "\x1b[2K\n";
    this.#drawnLines = Math.max(lines.length, this.#drawnLines);
    this.#out.write(frame);
  }
}
