import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCommand } from "./args.ts";

const USAGE = "usage: tradepipe demo --data DIR\n";
const OPTIONS = {
  data: { type: "string" },
  tag: { type: "string", multiple: true },
  dry: { type: "boolean" },
} as const;

/** captured runs `f` with stdout and stderr collected. */
function captured<T>(f: () => T): { value: T; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write;
  const e = process.stderr.write;
  process.stdout.write = ((s: string) => out.push(s) > 0) as typeof o;
  process.stderr.write = ((s: string) => err.push(s) > 0) as typeof e;
  try {
    return { value: f(), out: out.join(""), err: err.join("") };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

test("parseCommand reads options with typed readers", () => {
  const { value } = captured(() =>
    parseCommand("demo", USAGE, ["--data", "d", "--tag", "a", "--tag", "b", "--dry"], OPTIONS, [
      "data",
    ]),
  );
  assert.ok(typeof value !== "number");
  assert.equal(value.need("data"), "d");
  assert.deepEqual(value.list("tag"), ["a", "b"]);
  assert.equal(value.flag("dry"), true);
  assert.equal(value.str("missing"), undefined);
});

test("help prints the usage (exit 0); a usage error names the command and the problem (exit 2)", () => {
  const help = captured(() => parseCommand("demo", USAGE, ["-h"], OPTIONS, ["data"]));
  assert.equal(help.value, 0);
  assert.equal(help.out, USAGE);
  const missing = captured(() => parseCommand("demo", USAGE, [], OPTIONS, ["data"]));
  assert.equal(missing.value, 2);
  assert.equal(missing.err, `tradepipe demo: --data is required\n\n${USAGE}`);
  const unknown = captured(() => parseCommand("demo", USAGE, ["--nope"], OPTIONS));
  assert.equal(unknown.value, 2);
  assert.match(unknown.err, /^tradepipe demo: Unknown option '--nope'/);
  const dependent = captured(() =>
    parseCommand("demo", USAGE, ["--dry"], OPTIONS, (v) => (v.dry ? ["tag"] : [])),
  );
  assert.equal(dependent.value, 2);
  assert.match(dependent.err, /--tag is required/);
});

test("a command with actions takes exactly one of them, and checks the options that action needs", () => {
  const needs = (_v: unknown, action: string) => (action === "on" ? ["data"] : []);
  const parse = (argv: string[]) =>
    captured(() => parseCommand("demo", USAGE, argv, OPTIONS, needs, ["on", "off", "status"]));
  const on = parse(["--data", "d", "on"]);
  assert.ok(typeof on.value === "object");
  assert.equal(on.value.action, "on", "the action may follow the options");
  assert.equal(on.value.str("data"), "d");
  const off = parse(["off"]);
  assert.ok(typeof off.value === "object");
  assert.equal(off.value.action, "off");
  for (const [argv, problem] of [
    [[], "say on, off or status"],
    [["toggle"], "say on, off or status"],
    [["on", "--data", "d", "off"], "unexpected argument 'off'"],
    [["on"], "--data is required"],
    [["status", "--bogus"], "Unknown option '--bogus'"],
  ] as const) {
    const r = parse([...argv]);
    assert.equal(r.value, 2, argv.join(" "));
    assert.ok(r.err.startsWith(`tradepipe demo: ${problem}`), `${argv.join(" ")}: ${r.err}`);
  }
  // Without actions a stray word is still an error, as before.
  const stray = captured(() => parseCommand("demo", USAGE, ["on"], OPTIONS));
  assert.equal(stray.value, 2);
  assert.match(stray.err, /Unexpected argument 'on'/);
});
