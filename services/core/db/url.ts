/**
 * url: where a process finds its database URL, and how a URL is shown. The URL carries a
 * password, so the forms that keep it out of the environment and off the command line come
 * first:
 *   1. `DATABASE_URL_FILE`: a file holding the URL (a mounted Secret, a 0600 file);
 *   2. `$CREDENTIALS_DIRECTORY/database-url`: a systemd credential (`LoadCredential=`);
 *   3. `DATABASE_URL` itself (development, tests).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TradepipeError } from "../errors.ts";

/** The systemd credential's name (LoadCredential=database-url:<file>). */
export const DATABASE_URL_CREDENTIAL = "database-url";

/** databaseUrlFromEnv: the URL from the first source present (above), or undefined. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.DATABASE_URL_FILE?.trim();
  if (file) return readUrlFile(file, "DATABASE_URL_FILE");
  const credentials = env.CREDENTIALS_DIRECTORY?.trim();
  if (credentials) {
    const path = join(credentials, DATABASE_URL_CREDENTIAL);
    if (existsSync(path)) return readUrlFile(path, "systemd credential database-url");
  }
  return env.DATABASE_URL?.trim() || undefined;
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
