/**
 * The lint rule that keeps stage cores and strategy modules deterministic (biome.json's override
 * and lint/no-nondeterminism.grit), run by the real Biome on probe files laid out like the
 * repository: each forbidden use in a strategy module is refused, by name, and the same code
 * outside a strategy or a core, or in a test, is not.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { lintProbe } from "../../../test/support/lint-probe.ts";

const probe = lintProbe();
after(() => probe.remove());

/** lint writes `source` at `path` in the probe tree and returns Biome's verdict on it. */
function lint(path: string, source: string): { ok: boolean; output: string } {
  probe.write(path, source);
  return probe.lint(path);
}

const HEADER = 'import { act, defineStrategy } from "../strategy/api.ts";\n';

const FORBIDDEN: [string, string, RegExp][] = [
  ["Math.random", "export const r = Math.random();", /no Math\.random/],
  ["performance.now", "export const t = performance.now();", /no performance\.now/],
  ["Date.now", "export const t = Date.now();", /no Date\.now/],
  ["new Date", "export const d = new Date();", /noRestrictedGlobals[\s\S]*variable Date/],
  ["process.env", "export const e = process.env.HOME;", /variable process/],
  ["setTimeout", "setTimeout(() => {}, 1);", /variable setTimeout/],
  ["fetch", 'export const p = fetch("http://x");', /variable fetch/],
  ["node:fs", 'import { readFileSync } from "node:fs";\nexport { readFileSync };', /do no I\/O/],
  ["fs", 'import { readFile } from "fs/promises";\nexport { readFile };', /do no I\/O/],
  ["node:net", 'import { connect } from "node:net";\nexport { connect };', /do no I\/O/],
  ["undici", 'import { request } from "undici";\nexport { request };', /do no I\/O/],
  ["pg", 'import pg from "pg";\nexport { pg };', /do no I\/O/],
  ["crypto.randomUUID", "export const id = crypto.randomUUID();", /no random ids/],
];

describe("a strategy module may not read the clock, use randomness or do I/O", () => {
  it("a clean strategy module passes", () => {
    const clean = `${HEADER}export default defineStrategy({ name: "x", description: "x", params: {} as never, create: () => ({ onTick: (_t, _f, out) => { act(out, 1, Math.min(1, 0.5), "ok"); return false; } }) });\n`;
    const r = lint("services/signal-bridge/strategies/clean.ts", clean);
    assert.ok(r.ok, r.output);
  });
  for (const [what, code, message] of FORBIDDEN) {
    it(`refuses ${what}`, () => {
      for (const path of [
        "services/signal-bridge/strategies/probe.ts",
        "strategies/probe.ts",
        "services/risk-manager/core/probe.ts",
      ]) {
        const r = lint(path, code);
        assert.equal(r.ok, false, `${path}: ${what} passed the lint`);
        assert.match(r.output, message, `${path}: ${r.output}`);
      }
    });
  }
  it("the same code in a shell file or in a test is allowed", () => {
    assert.ok(
      lint("services/signal-bridge/shell-probe.ts", "export const t = Date.now() + Math.random();")
        .ok,
    );
    assert.ok(lint("strategies/probe.test.ts", "export const t = Date.now() + Math.random();").ok);
  });
});
