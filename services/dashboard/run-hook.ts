/**
 * run-hook: `tradepipe run` serves the dashboard beside the pipeline, on loopback only (open, as
 * a loopback dashboard may be): TRADEPIPE_DASHBOARD_LISTEN=127.0.0.1:PORT picks the port (default
 * a free one), TRADEPIPE_DASHBOARD_LISTEN=off leaves it out. A dashboard that cannot start is
 * reported and the run goes on: trading does not depend on it.
 */
import type pg from "pg";
import type { TradingPipeline } from "../core/spec/index.ts";
import { isLoopback } from "./auth.ts";
import { startDashboard } from "./server.ts";

export async function serveRunDashboard(
  pool: pg.Pool,
  pipeline: TradingPipeline,
  env: NodeJS.ProcessEnv,
  say: (text: string) => void,
  cleanups: Array<() => Promise<void>>,
): Promise<void> {
  const listen = env.TRADEPIPE_DASHBOARD_LISTEN ?? "127.0.0.1:0";
  if (listen === "off") return;
  const m = /^(.+):(\d{1,5})$/.exec(listen);
  if (!m || !isLoopback(m[1]!)) {
    say(
      `Dashboard: not started: TRADEPIPE_DASHBOARD_LISTEN="${listen}" must be 127.0.0.1:PORT or off (use \`tradepipe dashboard\` with --tokens to serve beyond this machine)`,
    );
    return;
  }
  try {
    const dashboard = await startDashboard({
      pool,
      host: m[1]!,
      port: Number(m[2]),
      pipelineName: pipeline.metadata.name,
      spec: pipeline.spec,
    });
    cleanups.push(() => dashboard.close());
    say(`Dashboard: ${dashboard.url}`);
  } catch (err) {
    say(`Dashboard: not started: ${(err as Error).message}`);
  }
}
