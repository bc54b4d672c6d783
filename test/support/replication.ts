/**
 * replication: a real primary and a streaming standby from the embedded Postgres binaries. They
 * have no pg_basebackup, so the standby starts from a cold copy of the primary's cluster taken
 * while it is stopped, with standby.signal and primary_conninfo, and streams over TCP.
 */
import {
  appendFile,
  chmod,
  chown,
  cp,
  mkdtemp,
  readdir,
  readFile,
  stat,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import {
  type EmbeddedPostgres,
  freePort,
  startEmbeddedPostgres,
} from "../../services/core/db/embedded.ts";

export interface PrimaryAndStandby {
  root: string;
  primary: EmbeddedPostgres;
  standby: EmbeddedPostgres;
  primaryDir: string;
  standbyDir: string;
}

/** chownTree gives a copied data directory to the user that owns the original (root runs it as postgres). */
async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}

/** startPrimaryAndStandby starts both in a new directory under /tmp named by `prefix`. */
export async function startPrimaryAndStandby(prefix: string): Promise<PrimaryAndStandby> {
  const root = await mkdtemp(join("/tmp", prefix));
  // As root, Postgres runs as another user, who must be able to enter the directory.
  await chmod(root, 0o755);
  const primaryDir = join(root, "primary");
  const standbyDir = join(root, "standby");
  const port = await freePort();
  const quiet = { stopOnSignals: false, durable: false } as const;
  const first = await startEmbeddedPostgres({ dataDir: primaryDir, port, ...quiet });
  await first.stop();
  await cp(primaryDir, standbyDir, { recursive: true });
  const owner = await stat(primaryDir);
  if (process.getuid?.() === 0) await chownTree(standbyDir, owner.uid, owner.gid);
  const password = (await readFile(join(primaryDir, "tradepipe.password"), "utf8")).trim();
  await writeFile(join(standbyDir, "standby.signal"), "");
  await appendFile(
    join(standbyDir, "postgresql.auto.conf"),
    `primary_conninfo = 'host=127.0.0.1 port=${port} user=tradepipe password=${password} application_name=standby-1 sslmode=verify-full sslrootcert=${join(standbyDir, "tls", "ca.crt")}'\n`,
  );
  const primary = await startEmbeddedPostgres({ dataDir: primaryDir, port, ...quiet });
  const standby = await startEmbeddedPostgres({ dataDir: standbyDir, ...quiet });
  return { root, primary, standby, primaryDir, standbyDir };
}
