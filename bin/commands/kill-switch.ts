/**
 * tradepipe kill-switch on|off|status [--reason TEXT]: engages or releases the kill switch of a
 * running pipeline through its risk-manager's control listener (the Unix socket of the
 * `tradepipe run` on this machine, a socket named with --socket, or a pod's listener with --url
 * and a Kubernetes token), or, with DATABASE_URL, directly in the pipeline's database. Either
 * way the state is persisted in risk_state (so a restart honours it) and reaches the running
 * risk-manager at once, which halts trading and cancels open orders.
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import pg from "pg";
import { type ControlTarget, callControl } from "../../services/core/control/client.ts";
import { databaseUrlFromEnv } from "../../services/core/db/url.ts";
import { liveRuns } from "../../services/pipeline/run-files.ts";
import { parseCommand } from "./args.ts";

const USAGE = `usage: tradepipe kill-switch on|off|status [--reason TEXT]
                     [--pid PID | --socket PATH | --url URL --token-file FILE]

Where it goes, first match wins:
  --socket PATH        a risk-manager's control socket (systemd: /run/tradepipe/<pipeline>/risk-manager.control.sock)
  --url URL            a risk-manager's control listener in a pod, with a token made for it:
                       kubectl create token <serviceaccount> --audience tradepipe.io/control > FILE
  DATABASE_URL(_FILE)  the pipeline's database directly
  (none)               the \`tradepipe run\` on this machine (--pid picks one when several run)
`;

type Target = { control: ControlTarget } | { databaseUrl: string } | { problem: string };

/** target picks where the command goes (see USAGE). */
function target(values: {
  pid?: string;
  socket?: string;
  url?: string;
  "token-file"?: string;
}): Target {
  if (values.socket) return { control: { socketPath: values.socket } };
  if (values.url) {
    const file = values["token-file"] ?? process.env.TRADEPIPE_CONTROL_TOKEN_FILE;
    if (!file)
      return { problem: "--url needs --token-file FILE (or TRADEPIPE_CONTROL_TOKEN_FILE)" };
    return { control: { url: values.url, token: readFileSync(file, "utf8").trim() } };
  }
  const url = databaseUrlFromEnv(process.env);
  if (url) return { databaseUrl: url };
  const picked = pickLiveRun(values.pid);
  if ("problem" in picked) return picked;
  return picked.run.controlSocket
    ? { control: { socketPath: picked.run.controlSocket } }
    : { databaseUrl: picked.run.databaseUrl };
}

/** pickLiveRun: the one `tradepipe run` on this machine (--pid picks one when several run). */
export function pickLiveRun(
  pidOption: string | undefined,
): { run: ReturnType<typeof liveRuns>[number] } | { problem: string } {
  const pid = pidOption === undefined ? undefined : Number(pidOption);
  const runs = liveRuns().filter((r) => pid === undefined || r.pid === pid);
  if (runs.length === 1) return { run: runs[0]! };
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

function print(engaged: boolean, reason: unknown): void {
  process.stdout.write(
    `kill switch ${engaged ? "ENGAGED" : "off"}${reason ? ` (${reason})` : ""}\n`,
  );
}

async function overControl(
  control: ControlTarget,
  action: "on" | "off" | "status",
  reason: string | undefined,
): Promise<number> {
  const answer =
    action === "status"
      ? await callControl(control, "GET", "/kill-switch")
      : await callControl(control, "POST", "/kill-switch", {
          engaged: action === "on",
          ...(reason !== undefined ? { reason } : {}),
        });
  if (answer.status !== 200) {
    process.stderr.write(
      `tradepipe kill-switch: refused (${answer.status}): ${String(answer.body.error ?? "no reason given")}\n`,
    );
    return 1;
  }
  print(Boolean(answer.body.engaged), answer.body.reason);
  return 0;
}

async function overDatabase(
  url: string,
  action: "on" | "off" | "status",
  reason: string | undefined,
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const row =
      action === "status"
        ? (await client.query("SELECT * FROM risk_state WHERE id = 1")).rows[0]
        : (
            await client.query("SELECT * FROM tp_set_kill_switch($1, $2, $3)", [
              action === "on",
              reason ?? (action === "on" ? "engaged from the command line" : null),
              `cli:${userInfo().username}`,
            ])
          ).rows[0];
    print(Boolean(row?.kill_switch_engaged), row?.kill_switch_reason);
    return 0;
  } finally {
    await client.end();
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(
    "kill-switch",
    USAGE,
    argv,
    {
      reason: { type: "string" },
      pid: { type: "string" },
      socket: { type: "string" },
      url: { type: "string" },
      "token-file": { type: "string" },
    },
    [],
    ["on", "off", "status"],
  );
  if (typeof args === "number") return args;
  const action = args.action as "on" | "off" | "status";
  const values = args.values as Parameters<typeof target>[0];
  const reason = args.str("reason");
  const t = target(values);
  if ("problem" in t) {
    process.stderr.write(`tradepipe kill-switch: ${t.problem}\n`);
    return 1;
  }
  return "control" in t
    ? overControl(t.control, action, reason)
    : overDatabase(t.databaseUrl, action, reason);
}
