/**
 * url: where a process finds its database URL, and how a URL is shown. The URL carries a
 * password, so the forms that keep it out of the environment and off the command line come
 * first:
 *   1. `DATABASE_URL_FILE`: a file holding the URL (a mounted Secret, a 0600 file);
 *   2. `$CREDENTIALS_DIRECTORY/database-url`: a systemd credential (`LoadCredential=`);
 *   3. `DATABASE_URL` itself (development, tests).
 * The server's CA, when one is given — `DATABASE_CA_FILE`, else the systemd credential
 * `$CREDENTIALS_DIRECTORY/database-ca.crt` — makes the URL verify the server: `sslmode` becomes
 * `verify-full` and `sslrootcert` that file, whatever the URL said.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TradepipeError } from "../errors.ts";

/** The systemd credential's name (LoadCredential=database-url:<file>). */
export const DATABASE_URL_CREDENTIAL = "database-url";

/** The systemd credential holding the database server's CA certificate (PEM). */
export const DATABASE_CA_CREDENTIAL = "database-ca.crt";

/** databaseUrlFromEnv: the URL from the first source present (above), or undefined. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const url = rawDatabaseUrl(env);
  if (url === undefined) return undefined;
  const ca = databaseCaFromEnv(env);
  return ca ? withVerifiedTls(url, ca) : url;
}

function rawDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.DATABASE_URL_FILE?.trim();
  if (file) return readUrlFile(file, "DATABASE_URL_FILE");
  const credentials = env.CREDENTIALS_DIRECTORY?.trim();
  if (credentials) {
    const path = join(credentials, DATABASE_URL_CREDENTIAL);
    if (existsSync(path)) return readUrlFile(path, "systemd credential database-url");
  }
  return env.DATABASE_URL?.trim() || undefined;
}

/** databaseCaFromEnv: DATABASE_CA_FILE (which must exist), else the systemd credential. */
export function databaseCaFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.DATABASE_CA_FILE?.trim();
  if (file) {
    if (!existsSync(file)) {
      throw new TradepipeError("TP_ERR_CONFIG", `DATABASE_CA_FILE ${file}: no such file`);
    }
    return file;
  }
  const credentials = env.CREDENTIALS_DIRECTORY?.trim();
  if (!credentials) return undefined;
  const path = join(credentials, DATABASE_CA_CREDENTIAL);
  return existsSync(path) ? path : undefined;
}

/**
 * withVerifiedTls makes a URL verify its server: `sslmode=verify-full` (the CA signature and the
 * host name) with `caFile` as the only trusted CA; both replace what the URL said. The query is
 * edited as text, so URLs WHATWG cannot parse (several hosts) keep their form.
 */
export function withVerifiedTls(url: string, caFile: string): string {
  const at = url.indexOf("?");
  const base = at === -1 ? url : url.slice(0, at);
  const query = new URLSearchParams(at === -1 ? "" : url.slice(at + 1));
  query.set("sslmode", "verify-full");
  query.set("sslrootcert", caFile);
  query.delete("uselibpqcompat");
  return `${base}?${query.toString()}`;
}

function readUrlFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `${what} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  const url = text.trim();
  if (!url) throw new TradepipeError("TP_ERR_CONFIG", `${what} ${path}: the file is empty`);
  return url;
}

/**
 * maskDatabaseUrl shows where a URL points without any credential: the whole userinfo (user
 * and password) is replaced by `***` after parsing, and query parameters are dropped (they may
 * hold `password=`, `sslkey=`…). A string that does not parse as a postgres:// URL with a host
 * is masked entirely: a password with a space or an `@` can defeat any pattern, so nothing of
 * it is shown.
 */
export function maskDatabaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "***";
  }
  if ((u.protocol !== "postgres:" && u.protocol !== "postgresql:") || !u.host) return "***";
  const auth = u.username || u.password ? "***@" : "";
  return `${u.protocol}//${auth}${u.host}${u.pathname}`;
}
