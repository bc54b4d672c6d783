/**
 * mutation runs StrykerJS over the pure cores with their unit tests and reports, per folder, how
 * many deliberate breaks (mutants) the tests catch. One Stryker run per folder, so each folder's
 * score comes from its own tests alone (a core whose bugs only an integration test would catch
 * should know it).
 *
 * Usage: npm run mutation [-- <folder> ...]   (default: every core folder below)
 *        MUTATION_CONCURRENCY=N (default 2) test processes at once.
 *        MUTATION_FULL=1 tests every mutant again instead of reusing the previous run's results.
 * Writes test/bench/results/mutation.md (the table, keeping the rows of folders not run),
 * .stryker-tmp/reports/<folder>.json (Stryker's report) and <folder>.alive.txt (the survivors).
 * A rerun is incremental: Stryker keeps each folder's results in .stryker-tmp/incremental/ and
 * tests again only the mutants whose code or covering tests changed since, so killing survivors
 * one test at a time costs minutes, not the folder's full run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The folders of pure logic: stage cores, the signal-bridge's strategy engine and feature library
 * (a stage core in all but the folder's name: the determinism lint holds it to the same rules),
 * exact money, the operator's decision functions.
 */
const DEFAULT_TARGETS: Target[] = [
  ...readdirSync(join(root, "services"))
    .filter((s) => existsSync(join(root, "services", s, "core")))
    .map((s) => folderTarget(`services/${s}/core`)),
  folderTarget("services/signal-bridge/strategy"),
  {
    name: "services/core/money",
    mutate: ["services/core/money.ts"],
    tests: ["services/core/money.test.ts"],
  },
  {
    name: "operator/controller (decisions)",
    mutate: ["operator/controller/steps.ts", "operator/controller/workqueue.ts"],
    tests: [
      "operator/controller/decisions.test.ts",
      "operator/controller/steps.test.ts",
      "operator/controller/workqueue.test.ts",
    ],
  },
];

interface Target {
  name: string;
  /** Files Stryker breaks. */
  mutate: string[];
  /** Test files that must catch the breaks. */
  tests: string[];
}

function folderTarget(folder: string): Target {
  const files = readdirSync(join(root, folder)).filter((f) => f.endsWith(".ts"));
  return {
    name: folder,
    // test-support.ts builds the tests' states and events: breaking it says nothing of the product.
    mutate: files
      .filter((f) => !f.endsWith(".test.ts") && f !== "test-support.ts")
      .map((f) => `${folder}/${f}`),
    tests: files.filter((f) => f.endsWith(".test.ts")).map((f) => `${folder}/${f}`),
  };
}

interface StrykerMutant {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface StrykerReport {
  files: Record<string, { source: string; mutants: StrykerMutant[] }>;
}

/**
 * aliveList: one line per mutant the tests let live (survived or not covered), as
 * `file:line:column Mutator: original → replacement`, the list to read when raising a score.
 */
function aliveList(report: StrykerReport): string {
  const lines: string[] = [];
  for (const [path, file] of Object.entries(report.files)) {
    const sourceLines = file.source.split("\n");
    for (const m of file.mutants) {
      if (m.status !== "Survived" && m.status !== "NoCoverage") continue;
      const { start, end } = m.location;
      const original =
        start.line === end.line
          ? sourceLines[start.line - 1]!.slice(start.column - 1, end.column - 1)
          : `${sourceLines[start.line - 1]!.slice(start.column - 1)} …`;
      const short = (x: string) =>
        (x.length > 80 ? `${x.slice(0, 77)}...` : x).replace(/\s+/g, " ");
      lines.push(
        `${path}:${start.line}:${start.column} ${m.status === "NoCoverage" ? "[not covered] " : ""}${m.mutatorName}: ${short(original)} → ${short(m.replacement ?? "")}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

interface Score {
  name: string;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  invalid: number;
}

function runTarget(t: Target): Score {
  const slug = t.name.replace(/[^a-z0-9]+/gi, "-");
  const reportDir = join(root, ".stryker-tmp", "reports");
  mkdirSync(reportDir, { recursive: true });
  const reportFile = join(reportDir, `${slug}.json`);
  const incrementalDir = join(root, ".stryker-tmp", "incremental");
  mkdirSync(incrementalDir, { recursive: true });
  const config = {
    $schema: "./node_modules/@stryker-mutator/core/schema/stryker-schema.json",
    testRunner: "tap",
    tap: {
      testFiles: t.tests,
      // Node runs the TypeScript directly (type stripping), as the suite does.
      nodeArgs: ["--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
      forceBail: true,
    },
    mutate: t.mutate,
    // Type-only lines cannot be broken at run time; checking them wastes runs.
    ignoreStatic: true,
    concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
    timeoutMS: 20_000,
    incremental: true,
    incrementalFile: relative(root, join(incrementalDir, `${slug}.json`)),
    force: process.env.MUTATION_FULL === "1",
    // progress-append-only: a line every few seconds (killed, survived, time left) that a log keeps.
    reporters: ["json", "clear-text", "progress-append-only"],
    jsonReporter: { fileName: relative(root, reportFile) },
    tempDirName: ".stryker-tmp",
    // Stryker rewrites tsconfig.json through TypeScript's JavaScript API, which the project's
    // TypeScript 7 (the native compiler) does not have; nothing here compiles, so skip it.
    tsconfigFile: ".stryker-no-tsconfig.json",
    cleanTempDir: "always",
    ignorePatterns: ["test/bench/results", ".stryker-tmp", "research/.venv"],
  };
  const configFile = join(reportDir, `${slug}.config.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  process.stdout.write(`\n▶ ${t.name}: ${t.mutate.length} files, ${t.tests.length} test files\n`);
  const r = spawnSync(
    process.execPath,
    [
      join(root, "node_modules", "@stryker-mutator", "core", "bin", "stryker.js"),
      "run",
      configFile,
    ],
    {
      cwd: root,
      stdio: "inherit",
      // Every mutant costs a fresh Node per covering test file; Node's compile cache (the sandbox's
      // files do not change during a run) cuts each start's CPU time by about 40% on a busy machine.
      env: {
        ...process.env,
        NODE_COMPILE_CACHE: join(root, ".stryker-tmp", "compile-cache"),
        // The tap runner starts `node` from PATH: make it this Node (24, type stripping) even
        // when the script was started without npm, whose PATH puts node_modules/.bin first.
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
      },
    },
  );
  if (r.status !== 0 || !existsSync(reportFile)) {
    throw new Error(`stryker failed for ${t.name} (exit ${r.status}); see its output above`);
  }
  const report = JSON.parse(readFileSync(reportFile, "utf8")) as StrykerReport;
  // An incremental run carries over files an earlier configuration mutated; count only ours.
  for (const path of Object.keys(report.files)) {
    if (!t.mutate.includes(path)) delete report.files[path];
  }
  const score: Score = {
    name: t.name,
    killed: 0,
    timeout: 0,
    survived: 0,
    noCoverage: 0,
    invalid: 0,
  };
  const aliveFile = join(reportDir, `${slug}.alive.txt`);
  writeFileSync(aliveFile, aliveList(report));
  process.stdout.write(`mutants left alive: ${relative(root, aliveFile)}\n`);
  for (const file of Object.values(report.files)) {
    for (const m of file.mutants) {
      if (m.status === "Killed") score.killed += 1;
      else if (m.status === "Timeout") score.timeout += 1;
      else if (m.status === "Survived") score.survived += 1;
      else if (m.status === "NoCoverage") score.noCoverage += 1;
      else score.invalid += 1; // CompileError, RuntimeError, Ignored
    }
  }
  return score;
}

function percent(s: Score): string {
  const detected = s.killed + s.timeout;
  const total = detected + s.survived + s.noCoverage;
  return total === 0 ? "n/a" : `${((100 * detected) / total).toFixed(1)}%`;
}

const RESULTS = join(root, "test", "bench", "results", "mutation.md");
const COLUMNS = [
  "folder",
  "score",
  "killed",
  "timed out",
  "survived",
  "not covered",
  "invalid",
  "measured",
  "load average",
];

function row(s: Score, loadStart: number, loadEnd: number): string {
  const cells = [
    s.name,
    percent(s),
    s.killed,
    s.timeout,
    s.survived,
    s.noCoverage,
    s.invalid,
    new Date().toISOString().slice(0, 10),
    `${loadStart.toFixed(1)} → ${loadEnd.toFixed(1)}`,
  ];
  return `| ${cells.join(" | ")} |`;
}

/** earlierRows: the table rows of the results file by folder, so a run of one folder keeps the others. */
function earlierRows(): Map<string, string> {
  const rows = new Map<string, string>();
  if (!existsSync(RESULTS)) return rows;
  for (const line of readFileSync(RESULTS, "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    // A data row: | name | n.n% | ... with as many cells as the current columns.
    if (cells.length !== COLUMNS.length + 2 || !/%$|^n\/a$/.test(cells[2] ?? "")) continue;
    rows.set(cells[1]!, line);
  }
  return rows;
}

function main(): void {
  const wanted = process.argv.slice(2);
  const targets = wanted.length
    ? wanted.map((w) => DEFAULT_TARGETS.find((t) => t.name === w) ?? folderTarget(w))
    : DEFAULT_TARGETS;
  const fresh = new Map<string, string>();
  for (const t of targets) {
    const loadStart = loadavg()[0]!;
    const s = runTarget(t);
    fresh.set(s.name, row(s, loadStart, loadavg()[0]!));
  }
  // Read the file only now: another folder's run may have finished meanwhile.
  const rows = new Map([...earlierRows(), ...fresh]);
  // Default folders first, in their order; any other folder after them.
  const order = [...DEFAULT_TARGETS.map((t) => t.name), ...rows.keys()];
  const lines = [
    `| ${COLUMNS.join(" | ")} |`,
    `| --- | ${COLUMNS.slice(1, -2)
      .map(() => "---:")
      .join(" | ")} | --- | --- |`,
    ...[...new Set(order)].flatMap((name) => rows.get(name) ?? []),
  ];
  const table = `${lines.join("\n")}\n`;
  process.stdout.write(`\n${table}`);
  const header = [
    "# Mutation scores",
    "",
    "Each row made by `npm run mutation -- <folder>` on the date shown (one Stryker run per folder,",
    "against the unit tests beside it; incremental after the first run). Score = (killed + timed",
    "out) / (killed + timed out + survived + not covered). Load average: the machine's 1-minute",
    "load when the folder's last run started and ended (2 CPUs; a rerun that reuses every result",
    "only recounts). Why each remaining survivor is left alive:",
    "[mutation-survivors.md](mutation-survivors.md).",
    "",
    "",
  ].join("\n");
  writeFileSync(RESULTS, header + table);
  // Align the table the way the linter formats Markdown, so the written file passes `npm run lint`.
  spawnSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", RESULTS], {
    cwd: root,
  });
  process.stdout.write(`written to ${relative(root, RESULTS)}\n`);
}

main();
