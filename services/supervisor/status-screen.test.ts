import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatDuration,
  type PipelineStatus,
  renderLogLine,
  renderStatus,
} from "./status-screen.ts";

const status: PipelineStatus = {
  pipeline: "local",
  mode: "processes",
  broker: "simulator",
  uptimeSeconds: 75,
  stages: [
    { name: "market-data", up: true, ready: true, restarts: 0 },
    { name: "execution-engine", up: true, ready: false, restarts: 2, detail: "reconciling" },
  ],
  ordersSent: 12,
  fills: 11,
  rejects: 3,
  positions: [{ symbol: "AAPL", qty: "10", avgPrice: "187.23", unrealizedPnl: "-4.10" }],
  realizedPnl: "12.50",
  unrealizedPnl: "-4.10",
  circuitBreaker: "closed",
  killSwitch: true,
};

test("the status screen shows every stage, the counts, P&L and the kill switch", () => {
  const text = renderStatus(status).join("\n");
  assert.match(text, /up 1m15s/);
  assert.match(text, /market-data\s+●\s+●/);
  assert.match(text, /execution-engine\s+●\s+○\s+2\s+reconciling/);
  assert.match(text, /orders 12 {3}fills 11 {3}rejects 3/);
  assert.match(text, /AAPL\s+10\s+187\.23\s+-4\.10/);
  assert.match(text, /kill switch ENGAGED/);
});

test("the log line form carries the same facts on one line", () => {
  const line = renderLogLine(status);
  assert.equal(line.includes("\n"), false);
  assert.match(line, /market-data=ready execution-engine=up orders=12 fills=11/);
  assert.match(line, /killSwitch=on/);
});

test("durations read naturally", () => {
  assert.equal(formatDuration(5), "0m05s");
  assert.equal(formatDuration(3725), "1h02m");
});

test("the database line says when the embedded server crashed and came back", () => {
  const lines = (line: string, ok: boolean) => ({ ...status, database: { ok, line } });
  const down = renderStatus(
    lines("embedded server crashed (last crash killed by SIGKILL at …): restarting it", false),
  ).join("\n");
  assert.match(down, /database ○ embedded server crashed .*killed by SIGKILL.*restarting it/);
  const up = renderStatus(lines("embedded server up (pid 42), restarted 1× after a crash", true));
  assert.ok(up.some((l) => /^database ● embedded server up \(pid 42\), restarted 1×/.test(l)));
  assert.match(renderLogLine(lines("x", false)), /database=down$/);
});

test("money is shown in cents and prices at their tick, never with nine decimals", () => {
  const lines = renderStatus({
    ...status,
    realizedPnl: "3.608888888",
    unrealizedPnl: "-0.005",
    positions: [
      { symbol: "AAPL", qty: "3", avgPrice: "120.015333333", unrealizedPnl: "1.234567891" },
      { symbol: "PENNY", qty: "1000", avgPrice: "0.123456", unrealizedPnl: "-2.5" },
    ],
  }).join("\n");
  assert.match(lines, /realized P&L 3\.61 {3}unrealized P&L 0\.00/);
  assert.match(lines, /AAPL +3 +120\.02 +1\.23/);
  assert.match(lines, /PENNY +1000 +0\.1235 +-2\.50/);
  assert.doesNotMatch(lines, /\d\.\d{5,}/);
  assert.match(renderLogLine({ ...status, realizedPnl: "3.608888888" }), / realized=3\.61 /);
});

test("why orders are refused: the three most frequent reasons, on the screen and the log line", () => {
  const refused = {
    ...status,
    rejects: 3519,
    rejectsByReason: {
      max_var99: 2193,
      crosses_zero: 1206,
      halted: 0,
      max_notional_per_symbol: 120,
    },
  };
  assert.match(
    renderStatus(refused).join("\n"),
    /rejects 3519 \(max_var99 2193, crosses_zero 1206, max_notional_per_symbol 120\)/,
  );
  assert.match(
    renderLogLine(refused),
    / rejects=3519 rejectReasons=max_var99:2193,crosses_zero:1206,max_notional_per_symbol:120 positions=/,
  );
  assert.match(renderLogLine(status), / rejects=3 positions=/, "no reasons known: nothing added");
});
