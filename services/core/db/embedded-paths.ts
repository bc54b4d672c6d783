/**
 * embedded-paths: pure decisions about where the embedded Postgres keeps its data and which
 * operating-system user runs it. Kept apart from embedded.ts so they are unit-tested without
 * starting a server.
 */
import { join } from "node:path";

/**
 * defaultDataDir is the persistent cluster directory when TRADEPIPE_DATA_DIR is not set:
 * `$XDG_DATA_HOME/tradepipe/postgres`, else `~/.local/share/tradepipe/postgres`. As root the
 * home directory (/root, mode 0700) cannot be entered by the unprivileged user Postgres must run
 * as, so root gets the FHS location `/var/lib/tradepipe/postgres` instead.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, home: string, uid: number): string {
  if (env.TRADEPIPE_DATA_DIR) return join(env.TRADEPIPE_DATA_DIR, "postgres");
  if (uid === 0) return "/var/lib/tradepipe/postgres";
  const base = env.XDG_DATA_HOME || join(home, ".local", "share");
  return join(base, "tradepipe", "postgres");
}

export interface FileMode {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * firstUnsearchableDir returns the first directory in `ancestors` (outermost first) that the
 * given user cannot enter (no execute bit for it), or undefined when the whole chain is open.
 * Postgres resolves its data directory by absolute path, so every ancestor must be searchable.
 */
export function firstUnsearchableDir(
  ancestors: FileMode[],
  user: { uid: number; gids: number[] },
): string | undefined {
  for (const dir of ancestors) {
    if (user.uid === 0) return undefined;
    const searchable =
      dir.uid === user.uid
        ? (dir.mode & 0o100) !== 0
        : user.gids.includes(dir.gid)
          ? (dir.mode & 0o010) !== 0
          : (dir.mode & 0o001) !== 0;
    if (!searchable) return dir.path;
  }
  return undefined;
}

/** ancestorsOf lists `/`, `/a`, `/a/b` … for `/a/b/c` (the directory itself excluded). */
export function ancestorsOf(absolutePath: string): string[] {
  const parts = absolutePath.split("/").filter(Boolean);
  const out = ["/"];
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join("/")}`);
  return out;
}

/**
 * embeddedUrl is the connection string of the embedded server for `database`: TLS with the
 * server's certificate verified against the data directory's CA and its name checked
 * (node-postgres reads `sslrootcert` and treats `verify-full` as libpq does).
 */
export function embeddedUrl(opts: {
  user: string;
  password: string;
  port: number;
  database: string;
  caFile: string;
}): string {
  const pw = encodeURIComponent(opts.password);
  const tls = `sslmode=verify-full&sslrootcert=${encodeURIComponent(opts.caFile)}`;
  return `postgres://${opts.user}:${pw}@127.0.0.1:${opts.port}/${opts.database}?${tls}`;
}
