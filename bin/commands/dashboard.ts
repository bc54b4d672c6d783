/**
 * `tradepipe dashboard [-f spec.yaml] [--listen 127.0.0.1:8090]`: the live trading dashboard in
 * the browser (services/dashboard), over the pipeline's database: DATABASE_URL when set, else
 * the `tradepipe run` live on this machine, else the embedded Postgres the last run left.
 *
 * `tradepipe dashboard token viewer|operator NAME` makes an access token and prints the line to
 * add to the tokens file (only the token's sha256 is stored there).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { databaseUrlFromEnv, maskDatabaseUrl } from "../../services/core/db/url.ts";
import { loadPipelineFile, type TradingPipeline } from "../../services/core/spec/index.ts";
import { type AuthConfig, hashToken, loadTokenFile } from "../../services/dashboard/auth.ts";
import { startDashboard } from "../../services/dashboard/server.ts";
import { liveRuns } from "../../services/pipeline/run-files.ts";
import { openReportDatabase } from "../../services/report/database.ts";

const USAGE = `usage: tradepipe dashboard [-f spec.yaml | --pipeline NAME] [--listen HOST:PORT] [--tokens FILE]
                           [--trusted-proxy ADDR,... --proxy-user-header H [--proxy-role-header H]]
                           [--backtests DIR] [--pid PID] [--data-dir DIR]
       tradepipe dashboard token viewer|operator NAME

Serves the dashboard (default http://127.0.0.1:8090/). On a loopback address it may run open;
on any other address it refuses to start unless --tokens or --trusted-proxy is given.

  -f FILE                the pipeline's spec: its name and risk limits
  --pipeline NAME        the pipeline's name, without a spec (typed back to confirm actions)
  --listen HOST:PORT     where to listen (PORT 0 picks a free one)
  --tokens FILE          lines "<viewer|operator> <name> <sha256-hex>" (TRADEPIPE_DASHBOARD_TOKENS_FILE)
  --trusted-proxy ADDRS  addresses of an authenticating proxy whose user header is believed
  --proxy-user-header H  the header naming the user (e.g. X-Forwarded-User)
  --proxy-role-header H  the header naming the role (viewer unless it says operator)
  --backtests DIR        directory of \`tradepipe backtest --out\` runs to list
  --pid PID              the live \`tradepipe run\` to read when several are running
  --data-dir DIR         embedded Postgres data directory to read (without DATABASE_URL)
`;

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535)
    throw new Error(`--listen: "${text}" is not HOST:PORT (e.g. 127.0.0.1:8090)`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

function makeToken(argv: string[]): number {
  const [role, name] = argv;
  if ((role !== "viewer" && role !== "operator") || !name || !/^[A-Za-z0-9._@-]+$/.test(name)) {
    process.stderr.write("usage: tradepipe dashboard token viewer|operator NAME\n");
    return 2;
  }
  const token = randomBytes(24).toString("base64url");
  process.stdout.write(
    `token (give it to ${name}; it is shown once): ${token}\n` +
      `line for the tokens file:\n${role} ${name} ${hashToken(token).toString("hex")}\n`,
  );
  return 0;
}

async function openDb(pid: number | undefined, dataDir: string | undefined) {
  const url = databaseUrlFromEnv(process.env);
  const runs = url || dataDir ? [] : liveRuns().filter((r) => pid === undefined || r.pid === pid);
  const chosen = url ?? (runs.length === 1 ? runs[0]!.databaseUrl : undefined);
  if (chosen) {
    // The stream polls on its own connections: more than the report's two.
    const pool = new pg.Pool({ connectionString: chosen, max: 8 });
    pool.on("error", () => {});
    return {
      pool,
      label: url
        ? `${maskDatabaseUrl(url)} (DATABASE_URL)`
        : `the live tradepipe run (pid ${runs[0]!.pid})`,
      pipeline: runs[0]?.pipeline,
      close: () => pool.end(),
    };
  }
  const db = await openReportDatabase({
    ...(dataDir ? { dataDir } : {}),
    ...(pid === undefined ? {} : { pid }),
  });
  return { ...db, pipeline: undefined };
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "token") return makeToken(argv.slice(1));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        file: { type: "string", short: "f" },
        pipeline: { type: "string" },
        listen: { type: "string" },
        tokens: { type: "string" },
        "trusted-proxy": { type: "string" },
        "proxy-user-header": { type: "string" },
        "proxy-role-header": { type: "string" },
        backtests: { type: "string" },
        pid: { type: "string" },
        "data-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`tradepipe dashboard: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  let listen: { host: string; port: number };
  let auth: AuthConfig;
  let spec: TradingPipeline | undefined;
  try {
    listen = parseListen(str("listen") ?? "127.0.0.1:8090");
    const tokensFile = str("tokens") ?? process.env.TRADEPIPE_DASHBOARD_TOKENS_FILE;
    auth = { tokens: tokensFile ? loadTokenFile(tokensFile) : [] };
    const proxies = str("trusted-proxy");
    if (proxies) {
      const userHeader = str("proxy-user-header");
      if (!userHeader) throw new Error("--trusted-proxy needs --proxy-user-header");
      const roleHeader = str("proxy-role-header");
      auth.trustedProxy = {
        addresses: proxies.split(",").map((a) => a.trim()),
        userHeader,
        ...(roleHeader ? { roleHeader } : {}),
      };
    }
    const file = str("file");
    if (file) spec = await loadPipelineFile(file);
  } catch (err) {
    process.stderr.write(`tradepipe dashboard: ${(err as Error).message}\n`);
    return 2;
  }
  const pidText = str("pid");
  const db = await openDb(pidText === undefined ? undefined : Number(pidText), str("data-dir"));
  try {
    const dashboard = await startDashboard({
      pool: db.pool,
      host: listen.host,
      port: listen.port,
      pipelineName: spec?.metadata.name ?? str("pipeline") ?? db.pipeline ?? "pipeline",
      ...(spec ? { spec: spec.spec } : {}),
      auth,
      ...(str("backtests") ? { backtestDir: str("backtests") } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`dashboard: ${dashboard.url} (database: ${db.label})\n`);
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    await dashboard.close();
    return 0;
  } catch (err) {
    process.stderr.write(`tradepipe dashboard: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
