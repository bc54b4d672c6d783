/**
 * status-screen renders the live status of a local pipeline: pure `renderStatus` turns a
 * snapshot into lines; `StatusView` redraws them in place on a terminal, or writes one log line
 * per interval when stdout is not a terminal (CI, pipes, files).
 */
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
    `orders ${s.ordersSent}   fills ${s.fills}   rejects ${s.rejects}   realized P&L ${s.realizedPnl}   unrealized P&L ${s.unrealizedPnl}`,
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
        `${p.symbol.padEnd(8)} ${p.qty.padStart(7)} ${p.avgPrice.padStart(12)} ${p.unrealizedPnl.padStart(15)}`,
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
  return `status ${stages} orders=${s.ordersSent} fills=${s.fills} rejects=${s.rejects} positions=${s.positions.length} realized=${s.realizedPnl} unrealized=${s.unrealizedPnl} breaker=${s.circuitBreaker} killSwitch=${s.killSwitch ? "on" : "off"}${s.database ? ` database=${s.database.ok ? "up" : "down"}` : ""}`;
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
