/**
 * tradepipe pause on|off|status [--reason TEXT]: pauses or resumes new orders of a running
 * pipeline in its database (DATABASE_URL, else the `tradepipe run` on this machine) through
 * tp_set_pause, which records who and why and tells the running risk manager at once. While
 * paused the risk manager approves no order that grows a position; open orders keep working
 * (the kill switch is what also cancels them).
 */
import { userInfo } from "node:os";
import pg from "pg";
import { databaseUrlFromEnv } from "../../services/core/db/url.ts";
import { parseCommand } from "./args.ts";
import { pickLiveRun } from "./kill-switch.ts";

const USAGE = `usage: tradepipe pause on|off|status [--reason TEXT] [--pid PID]

Where it goes, first match wins:
  DATABASE_URL(_FILE)  the pipeline's database
  (none)               the database of the \`tradepipe run\` on this machine (--pid picks one)
`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(
    "pause",
    USAGE,
    argv,
    { reason: { type: "string" }, pid: { type: "string" } },
    [],
    ["on", "off", "status"],
  );
  if (typeof args === "number") return args;
  const action = args.action;
  let url = databaseUrlFromEnv(process.env);
  if (!url) {
    const picked = pickLiveRun(args.str("pid"));
    if ("problem" in picked) {
      process.stderr.write(`tradepipe pause: ${picked.problem}\n`);
      return 1;
    }
    url = picked.run.databaseUrl;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const row =
      action === "status"
        ? (await client.query("SELECT * FROM risk_state WHERE id = 1")).rows[0]
        : (
            await client.query("SELECT * FROM tp_set_pause($1, $2, $3)", [
              action === "on",
              args.str("reason") ?? (action === "on" ? "paused from the command line" : null),
              `cli:${userInfo().username}`,
            ])
          ).rows[0];
    process.stdout.write(
      `new orders ${row?.paused ? "PAUSED" : "approved"}${row?.paused_reason ? ` (${row.paused_reason})` : ""}\n`,
    );
    return 0;
  } finally {
    await client.end();
  }
}
