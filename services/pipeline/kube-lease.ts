/**
 * kube-lease bridges a stage pod to the operator's Lease protocol (services/core/kube/stage-lease.ts).
 * In a pod the operator names the stage's Lease in TRADEPIPE_STAGE_LEASE; the stage then takes
 * part in the Lease election (which the operator reads to show each stage's leader and epoch) and
 * answers the operator's kill-switch request: when the Lease carries
 * tradepipe.io/kill-switch=engaged, the kill switch is engaged in the database (the same
 * tp_set_kill_switch the CLI uses, so the risk-manager halts and the execution-engine cancels
 * open orders), and once no order of the pipeline is open any more the halt is acknowledged with
 * tradepipe.io/halted=<epoch>. The operator waits for that before a deleted pipeline's pods go.
 *
 * Orders are fenced by the Postgres leadership (host.ts) in every rendering; the Lease carries
 * the operator-facing leadership and this handshake.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { createKubeClient, loadKubeConfig } from "../core/kube/client.ts";
import { type StageLease, startStageLease } from "../core/kube/stage-lease.ts";
import type { Logger } from "../core/telemetry/index.ts";

export interface KubeStageLeaseOptions {
  db: pg.Pool;
  log: Logger;
  env: NodeJS.ProcessEnv;
  /** A kubeconfig file; default the pod's in-cluster config (or KUBECONFIG). */
  kubeconfigPath?: string;
  /** How long to wait for open orders to end before giving up on an acknowledgement. */
  haltTimeoutMs?: number;
}

const OPEN = "('created', 'submitted', 'new', 'partially_filled')";

async function openOrders(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM orders WHERE status IN ${OPEN}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** startKubeStageLease starts the bridge when TRADEPIPE_STAGE_LEASE is set, else returns null. */
export async function startKubeStageLease(opts: KubeStageLeaseOptions): Promise<StageLease | null> {
  const { env, db, log } = opts;
  const name = env.TRADEPIPE_STAGE_LEASE;
  if (!name) return null;
  const namespace = env.POD_NAMESPACE;
  const identity = env.POD_NAME;
  if (!namespace || !identity) {
    throw new Error("TRADEPIPE_STAGE_LEASE is set but POD_NAMESPACE or POD_NAME is not");
  }
  const client = await createKubeClient(loadKubeConfig(opts.kubeconfigPath));
  const haltTimeoutMs = opts.haltTimeoutMs ?? 20_000;
  return startStageLease({
    client,
    namespace,
    name,
    identity,
    onStartedLeading: (l) => log.info({ lease: name, epoch: l.epoch }, "leading the stage Lease"),
    onStoppedLeading: (reason) => log.warn({ lease: name, reason }, "stage Lease lost"),
    onError: (err) => log.warn({ lease: name, err: err.message }, "stage Lease handshake failed"),
    async onKillSwitch(engaged) {
      await db.query("SELECT tp_set_kill_switch($1, $2, $3)", [
        engaged,
        engaged ? "the operator asked the pipeline to halt" : null,
        `operator:${namespace}/${name}`,
      ]);
      log.warn({ lease: name, engaged }, "kill switch set at the operator's request");
      if (!engaged) return;
      const deadline = Date.now() + haltTimeoutMs;
      for (;;) {
        const open = await openOrders(db);
        if (open === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`${open} order(s) still open ${haltTimeoutMs} ms after the kill switch`);
        }
        await sleep(200);
      }
    },
  });
}
