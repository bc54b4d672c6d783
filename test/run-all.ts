/**
 * run-all is `npm test`: the type check, the linter, then every unit and integration test with
 * node's test runner, against one embedded Postgres started here and stopped afterwards (test
 * files create their own databases on it through test/support/pg.ts).
 *
 * Usage: npm test [-- <file or glob> ...]   (no arguments: the whole suite)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** Every test file, by place: unit tests beside their code, integration tests under test/. */
const DEFAULT_PATTERNS = [
  "bin/**/*.test.ts",
  "services/**/*.test.ts",
  "operator/**/*.test.ts",
  "native-deploy/**/*.test.ts",
  "test/**/*.test.ts",
];

function run(label: string, cmd: string, args: string[], env = process.env): Promise<number> {
  const started = performance.now();
  process.stdout.write(`\n▶ ${label}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: "inherit", env });
    child.on("exit", (code, signal) => {
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      const status = code === 0 ? "ok" : `failed (${signal ?? `exit ${code}`})`;
      process.stdout.write(`◀ ${label}: ${status} in ${secs} s\n`);
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<number> {
  const patterns = process.argv.slice(2);
  const whole = patterns.length === 0;
  let failed = 0;
  if (whole) {
    failed += (await run("type check (tsc --noEmit)", bin("tsc"), [
      "--noEmit",
      "-p",
      "tsconfig.json",
    ]))
      ? 1
      : 0;
    failed += (await run("lint (biome check)", bin("biome"), ["check", "."])) ? 1 : 0;
  }

  const { startEmbeddedPostgres } = await import("../services/core/db/embedded.ts");
  const dataDir = mkdtempSync(join(tmpdir(), "tradepipe-test-pg-"));
  process.stdout.write(`\n▶ starting embedded Postgres for the tests in ${dataDir}\n`);
  const pg = await startEmbeddedPostgres({ dataDir, durable: false });
  const env = { ...process.env, TRADEPIPE_TEST_DATABASE_URL: pg.url };
  try {
    const concurrency = process.env.TRADEPIPE_TEST_CONCURRENCY ?? "2";
    // A test that hangs fails after this long instead of holding CI until its own limit; a file
    // whose hooks hang is ended by test/support/file-deadline.ts.
    const testTimeoutMs = process.env.TRADEPIPE_TEST_TIMEOUT_MS ?? String(8 * 60_000);
    const args = [
      "--test",
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${testTimeoutMs}`,
      "--import",
      "./test/support/file-deadline.ts",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      ...(whole ? DEFAULT_PATTERNS : patterns),
    ];
    failed += (await run("tests (node --test)", process.execPath, args, env)) ? 1 : 0;
  } finally {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(failed ? `\n${failed} step(s) failed\n` : "\nall steps passed\n");
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
