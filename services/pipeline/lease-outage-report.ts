/**
 * lease-outage-report: in a pod, a stage tells the operator why it cannot work — today a
 * database outage — through its own stage Lease (the one object its ServiceAccount may write),
 * as the annotation `outage.tradepipe.io/<pod>`: "database unreachable since <time>: <error>".
 * The operator quotes it in the TradingPipeline's StagesReady condition ("execution-engine:
 * database unreachable since …: …"). Each pod writes its own key with a JSON merge patch, so
 * replicas never overwrite each other; the key is removed when the database is back, and at
 * start (a restarted container keeps its pod's name and must not keep its old message). The
 * operator reads only the keys of pods that exist, so a pod that died mid-outage leaves nothing
 * behind that matters.
 *
 * Writes are serialized and only the latest message counts; a failed write (the API server is
 * away too) is retried with backoff, never thrown at the stage.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type KubeClient, MERGE_PATCH } from "../core/kube/client.ts";
import type { Logger } from "../core/telemetry/index.ts";

/** OUTAGE_ANNOTATION_PREFIX: the stage Lease's annotations, one per pod, that name an outage. */
export const OUTAGE_ANNOTATION_PREFIX = "outage.tradepipe.io/";

export interface LeaseOutageReport {
  /** The outage message, or null once it is over; only the latest call is written. */
  set(message: string | null): void;
  /** Resolves once the latest message is written (or the reporter stopped). */
  flushed(): Promise<void>;
  stop(): Promise<void>;
}

export interface LeaseOutageReportOptions {
  client: KubeClient;
  namespace: string;
  lease: string;
  pod: string;
  log: Logger;
  /** First retry delay after a failed write; doubles up to 5 s. */
  retryMs?: number;
}

export function startLeaseOutageReport(opts: LeaseOutageReportOptions): LeaseOutageReport {
  const key = `${OUTAGE_ANNOTATION_PREFIX}${opts.pod}`;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases/${encodeURIComponent(opts.lease)}`;
  let wanted: string | null = null;
  // Unknown at first: a previous process of this pod (StatefulSet pods keep their names) may
  // have left a message, so the first write clears the key.
  let written: string | null | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let waker = new AbortController();

  const write = async () => {
    let backoff = opts.retryMs ?? 250;
    while (!stopped && wanted !== written) {
      const value = wanted;
      try {
        await opts.client.request("PATCH", path, {
          body: { metadata: { annotations: { [key]: value } } },
          contentType: MERGE_PATCH,
        });
        written = value;
        backoff = opts.retryMs ?? 250;
      } catch (err) {
        opts.log.warn(
          { lease: opts.lease, err: (err as Error).message },
          "could not report the outage on the stage Lease; retrying",
        );
        waker = new AbortController();
        await sleep(backoff, undefined, { signal: waker.signal }).catch(() => {});
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  };
  const kick = () => {
    running ??= write().finally(() => {
      running = undefined;
      if (!stopped && wanted !== written) kick();
    });
  };
  kick();
  return {
    set(message) {
      if (stopped || message === wanted) return;
      wanted = message;
      kick();
    },
    async flushed() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      waker.abort();
      await running;
    },
  };
}
