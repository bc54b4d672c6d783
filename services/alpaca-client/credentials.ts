/**
 * loadCredentials reads the Alpaca API key pair from the environment or from a mounted
 * Kubernetes Secret directory (one file per key, as a Secret volume mounts them).
 *
 * IMPORTANT: keys never come from config files and never reach logs: `Credentials` hides its
 * secret from JSON.stringify, util.inspect and template strings.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { TradepipeError } from "../core/errors.ts";

export const KEY_ID_NAME = "APCA_API_KEY_ID";
export const SECRET_KEY_NAME = "APCA_API_SECRET_KEY";

/** Credentials holds the key pair; only `headers()` and `keyId`/`secretKey` reveal them. */
export class Credentials {
  readonly keyId: string;
  readonly #secretKey: string;
  /** source says where the keys came from ("env" or the Secret directory), for logs. */
  readonly source: string;
  constructor(keyId: string, secretKey: string, source: string) {
    this.keyId = keyId;
    this.#secretKey = secretKey;
    this.source = source;
  }
  get secretKey(): string {
    return this.#secretKey;
  }
  /** headers are Alpaca's REST auth headers. */
  headers(): Record<string, string> {
    return { "APCA-API-KEY-ID": this.keyId, "APCA-API-SECRET-KEY": this.#secretKey };
  }
  toJSON(): object {
    return { keyId: redact(this.keyId), source: this.source };
  }
  toString(): string {
    return `Credentials(${redact(this.keyId)} from ${this.source})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

function redact(keyId: string): string {
  return keyId.length <= 4 ? "****" : `${keyId.slice(0, 4)}****`;
}

export interface LoadCredentialsOptions {
  /** env defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** secretDir is a mounted Secret volume holding files APCA_API_KEY_ID and APCA_API_SECRET_KEY. */
  secretDir?: string;
}

/**
 * loadCredentials prefers a complete pair from `secretDir` when one is given, else the
 * environment. A half-present pair is an error that names what is missing.
 */
export function loadCredentials(opts: LoadCredentialsOptions = {}): Credentials {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  if (opts.secretDir !== undefined) {
    const fromDir = readPair(opts.secretDir);
    if (fromDir.keyId && fromDir.secretKey) {
      return new Credentials(fromDir.keyId, fromDir.secretKey, `secret:${opts.secretDir}`);
    }
    problems.push(
      `${opts.secretDir}: missing ${fromDir.missing.join(" and ")} (files of a mounted Secret)`,
    );
  }
  const keyId = env[KEY_ID_NAME]?.trim();
  const secretKey = env[SECRET_KEY_NAME]?.trim();
  if (keyId && secretKey) return new Credentials(keyId, secretKey, "env");
  const missingEnv = [!keyId && KEY_ID_NAME, !secretKey && SECRET_KEY_NAME].filter(Boolean);
  problems.push(`environment: ${missingEnv.join(" and ")} not set`);
  throw new TradepipeError(
    "TP_ERR_CREDENTIALS_MISSING",
    `Alpaca API credentials not found: ${problems.join("; ")}`,
  );
}

function readPair(dir: string): { keyId?: string; secretKey?: string; missing: string[] } {
  const keyId = readSecretFile(join(dir, KEY_ID_NAME));
  const secretKey = readSecretFile(join(dir, SECRET_KEY_NAME));
  const missing = [!keyId && KEY_ID_NAME, !secretKey && SECRET_KEY_NAME].filter(
    (x): x is string => typeof x === "string",
  );
  const out: { keyId?: string; secretKey?: string; missing: string[] } = { missing };
  if (keyId) out.keyId = keyId;
  if (secretKey) out.secretKey = secretKey;
  return out;
}

function readSecretFile(path: string): string | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    return text.length > 0 ? text : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TradepipeError("TP_ERR_CREDENTIALS_MISSING", `cannot read ${path}`, { cause: err });
  }
}
