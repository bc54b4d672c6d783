/**
 * tradepipe kill-switch on|off|status [--reason TEXT]: engages or releases the kill switch of
 * the pipeline whose database is DATABASE_URL, or of the `tradepipe run` running on this
 * machine. The state is persisted in risk_state (so a restart honours it) and announced to the
 * running risk-manager at once (Postgres NOTIFY), which halts trading and cancels open orders.
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import { liveRuns } from "../../services/pipeline/run-files.ts";

const USAGE = `usage: tradepipe kill-switch on|off|status [--reason TEXT] [--pid PID]

Uses DATABASE_URL when set, else the database of the \`tradepipe run\` on this machine
(--pid picks one when several are running).
`;

/** databaseUrl picks DATABASE_URL, or the one live `tradepipe run` (or the one named by --pid). */
function databaseUrl(pid: number | undefined): { url?: string; problem?: string } {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL };
  const runs = liveRuns().filter((r) => pid === undefined || r.pid === pid);
  if (runs.length === 1) return { url: runs[0]!.databaseUrl };
  if (runs.length === 0) {
    return {
      problem:
        pid === undefined
          ? "no DATABASE_URL and no `tradepipe run` running on this machine"
          : `no \`tradepipe run\` with pid ${pid} on this machine`,
    };
  }
  const list = runs.map((r) => `  --pid ${r.pid}  (pipeline ${r.pipeline})`).join("\n");
  return { problem: `several \`tradepipe run\` are running; say which:\n${list}` };
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      reason: { type: "string" },
      pid: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const action = positionals[0];
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (action !== "on" && action !== "off" && action !== "status") {
    process.stderr.write(`tradepipe kill-switch: say on, off or status\n\n${USAGE}`);
    return 2;
  }
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  const { url, problem } = databaseUrl(pid);
  if (!url) {
    process.stderr.write(`tradepipe kill-switch: ${problem}\n`);
    return 1;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const row =
      action === "status"
        ? (await client.query("SELECT * FROM risk_state WHERE id = 1")).rows[0]
        : (
            await client.query("SELECT * FROM tp_set_kill_switch($1, $2, $3)", [
              action === "on",
              values.reason ?? (action === "on" ? "engaged from the command line" : null),
              `cli:${userInfo().username}`,
            ])
          ).rows[0];
    const engaged = Boolean(row?.kill_switch_engaged);
    process.stdout.write(
      `kill switch ${engaged ? "ENGAGED" : "off"}${row?.kill_switch_reason ? ` (${row.kill_switch_reason})` : ""}\n`,
    );
    return 0;
  } finally {
    await client.end();
  }
}
