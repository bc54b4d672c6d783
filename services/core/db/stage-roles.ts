/**
 * stage-roles: one LOGIN role per stage, each a member of its stage's NOLOGIN role from
 * sql/0007_roles.sql, so a stage process connects with exactly its stage's privileges and no
 * more (never as the owner or a superuser). `tradepipe run` makes them on its embedded server
 * with a fresh random password each run; elsewhere the administrator makes them once
 * (SECURITY.md shows the statements) and hands each stage its own URL.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";

/** STAGE_GROUP_ROLES: the NOLOGIN role of each stage process (sql/0007_roles.sql). */
export const STAGE_GROUP_ROLES = {
  "market-data": "tradepipe_market_data",
  "signal-bridge": "tradepipe_signal_bridge",
  "risk-manager": "tradepipe_risk_manager",
  "execution-engine": "tradepipe_execution_engine",
  "position-tracker": "tradepipe_position_tracker",
} as const;

export type StageWithRole = keyof typeof STAGE_GROUP_ROLES;

/** loginRoleName: `tradepipe_<stage>_login`, e.g. tradepipe_risk_manager_login. */
export function loginRoleName(stage: StageWithRole): string {
  return `${STAGE_GROUP_ROLES[stage]}_login`;
}

/**
 * ensureStageLogins creates (or re-keys) each stage's LOGIN role with a new random password and
 * returns each stage's URL: `adminUrl` with that role and password. Needs CREATEROLE (the
 * embedded server's superuser has it).
 */
export async function ensureStageLogins(
  admin: pg.Pool,
  adminUrl: string,
  stages: readonly StageWithRole[],
): Promise<Map<StageWithRole, string>> {
  const urls = new Map<StageWithRole, string>();
  for (const stage of stages) {
    const role = loginRoleName(stage);
    const group = STAGE_GROUP_ROLES[stage];
    const password = randomBytes(18).toString("base64url");
    const client = await admin.connect();
    try {
      const id = client.escapeIdentifier(role);
      const secret = client.escapeLiteral(password);
      const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      await client.query(
        exists.rowCount
          ? `ALTER ROLE ${id} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${secret}`
          : `CREATE ROLE ${id} LOGIN PASSWORD ${secret}`,
      );
      await client.query(`GRANT ${client.escapeIdentifier(group)} TO ${id}`);
    } finally {
      client.release();
    }
    const u = new URL(adminUrl);
    u.username = role;
    u.password = password;
    urls.set(stage, u.toString());
  }
  return urls;
}
