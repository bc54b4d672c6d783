/**
 * tradepipe sim: run the Alpaca-compatible paper broker and market-data simulator until Ctrl-C.
 * Prints the URLs and the key pair to point any Alpaca client at it.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type AdminAccess,
  describeAccount,
  type Keys,
  startSimulator,
} from "../../services/broker-sim/index.ts";

const USAGE = `usage: tradepipe sim [--port N] [--host H] [--seed S] [--speed X] [--clock realtime|manual]
                     [--symbols A,B,...] [--partial-fill-probability P] [--market-hours]
                     [--replay FILE.ndjson] [--rate-limit N] [--state FILE.json]

  --port N          port to listen on (default 8730; 0 picks a free one)
  --host H          address to bind (default 127.0.0.1)
  --seed S          seed of the market model, ids and partial fills (default 1)
  --speed X         simulated seconds per wall second (default 1)
  --clock MODE      realtime (default) or manual (time moves only via POST /admin/clock)
  --symbols LIST    symbols to simulate (default AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,SPY,QQQ,FAKEPACA)
  --partial-fill-probability P   chance an executable order fills only partly (default 0.1)
  --market-hours    follow NYSE regular hours (default: the market is always open)
  --replay FILE     play recorded NDJSON market data instead of the synthetic model
  --rate-limit N    requests per minute per account (default 200)
  --state FILE      keep the paper account (cash, positions, orders, fills) in FILE across runs,
                    like Alpaca's paper account; the market still restarts from the seed
  --keys-dir DIR    accept the key pair in DIR/APCA_API_KEY_ID and DIR/APCA_API_SECRET_KEY (a
                    mounted Secret) instead of the published development keys
  --admin-token-file FILE
                    /admin/* takes "Authorization: Bearer <token in FILE>", not the API keys
  --no-admin        turn the admin API off (/admin/* answers 404)
`;

/** readKeysDir reads a key pair from files, naming what is missing. */
function readKeysDir(dir: string): Keys | string {
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), "utf8").trim();
    } catch {
      return "";
    }
  };
  const keyId = read("APCA_API_KEY_ID");
  const secretKey = read("APCA_API_SECRET_KEY");
  if (!keyId || !secretKey)
    return `--keys-dir: ${dir} must hold APCA_API_KEY_ID and APCA_API_SECRET_KEY`;
  return { keyId, secretKey };
}

function adminAccess(
  tokenFile: string | undefined,
  off: boolean | undefined,
): AdminAccess | string {
  if (off && tokenFile) return "--no-admin and --admin-token-file exclude each other";
  if (off) return { kind: "off" };
  if (!tokenFile) return { kind: "keys" };
  let token = "";
  try {
    token = readFileSync(tokenFile, "utf8").trim();
  } catch (err) {
    return `--admin-token-file: ${(err as Error).message}`;
  }
  if (token.length < 16) return `--admin-token-file: ${tokenFile} holds fewer than 16 characters`;
  return { kind: "token", token };
}

function fail(message: string): number {
  process.stderr.write(`tradepipe sim: ${message}\n\n${USAGE}`);
  return 2;
}

function num(
  name: string,
  text: string | undefined,
  fallback: number,
  integer = false,
): number | string {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)))
    return `--${name}: not a${integer ? "n integer" : " number"}: ${text}`;
  return v;
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    return fail((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = num("port", v.port, 8730, true);
  const seed = num("seed", v.seed, 1, true);
  const speed = num("speed", v.speed, 1);
  const pfp = num("partial-fill-probability", v["partial-fill-probability"], 0.1);
  const rate = num("rate-limit", v["rate-limit"], 200, true);
  for (const x of [port, seed, speed, pfp, rate]) if (typeof x === "string") return fail(x);
  if (v.clock !== undefined && v.clock !== "realtime" && v.clock !== "manual") {
    return fail(`--clock: expected realtime or manual, got ${v.clock}`);
  }
  const keys = v["keys-dir"] ? readKeysDir(v["keys-dir"]) : undefined;
  if (typeof keys === "string") return fail(keys);
  const admin = adminAccess(v["admin-token-file"], v["no-admin"]);
  if (typeof admin === "string") return fail(admin);
  const sim = await startSimulator({
    port: port as number,
    host: v.host ?? "127.0.0.1",
    seed: seed as number,
    speed: speed as number,
    clock: (v.clock as "realtime" | "manual" | undefined) ?? "realtime",
    partialFillProbability: pfp as number,
    marketAlwaysOpen: !v["market-hours"],
    rateLimitPerMin: rate as number,
    ...(keys ? { keys } : {}),
    admin,
    ...(v.symbols
      ? {
          symbols: v.symbols
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(v.replay ? { replayFile: v.replay } : {}),
    ...(v.state ? { stateFile: v.state } : {}),
  });
  // Listen before the banner: whoever reads "Ctrl-C to stop." may send it at once.
  const stopped = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.stdout.write(
    [
      "tradepipe broker simulator (Alpaca-compatible, paper)",
      `  trading REST     ${sim.tradingUrl}/v2          (like https://paper-api.alpaca.markets)`,
      `  market data REST ${sim.dataRestUrl}/v2/stocks  (like https://data.alpaca.markets)`,
      `  trade_updates    ${sim.streamUrl}`,
      `  market data WS   ${sim.dataUrl}/v2/iex  (also /v2/sip, /v2/delayed_sip, /v2/test)`,
      `  admin            ${admin.kind === "off" ? "off" : `${sim.tradingUrl}/admin/state  (${admin.kind === "token" ? "Authorization: Bearer <token>" : "same key headers"})`}`,
      `  APCA-API-KEY-ID      ${sim.keys.keyId}`,
      `  APCA-API-SECRET-KEY  ${keys ? "(from --keys-dir)" : sim.keys.secretKey}`,
      `  seed ${seed}, speed ${speed}x, clock ${v.clock ?? "realtime"}, market ${v["market-hours"] ? "regular hours" : "always open"}`,
      `  account          ${sim.account ? describeAccount(sim.account) : "new on every start (--state FILE keeps it)"}`,
      "Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  await stopped;
  await sim.close();
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      seed: { type: "string" },
      speed: { type: "string" },
      clock: { type: "string" },
      symbols: { type: "string" },
      "partial-fill-probability": { type: "string" },
      "market-hours": { type: "boolean" },
      replay: { type: "string" },
      "rate-limit": { type: "string" },
      state: { type: "string" },
      "keys-dir": { type: "string" },
      "admin-token-file": { type: "string" },
      "no-admin": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
}
