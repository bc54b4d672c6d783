/**
 * stage-lease: the stage side of the Lease protocol, for a stage instance running in a pod.
 * It elects the stage's active instance on the Lease the operator created (TRADEPIPE_STAGE_LEASE),
 * hands the fencing epoch to the stage, and answers the operator's kill-switch request: when the
 * Lease carries tradepipe.io/kill-switch=engaged, the leader halts (onKillSwitch(true): no new
 * orders, open orders cancelled) and then writes tradepipe.io/halted=<its epoch>, which the
 * operator waits for before a deleted pipeline's pods go. When the request is withdrawn it
 * calls onKillSwitch(false) and removes the acknowledgement.
 */

import type { KubeClient } from "./client.ts";
import { ANNOTATION_HALTED, ANNOTATION_KILL_SWITCH } from "./lease-annotations.ts";
import { type Leadership, LeaseElector } from "./lease-elector.ts";
import { type ElectionTiming, type Lease, STAGE_TIMING } from "./lease-record.ts";

export interface StageLeaseOptions extends Partial<ElectionTiming> {
  client: KubeClient;
  namespace: string;
  /** The Lease's name (TRADEPIPE_STAGE_LEASE). */
  name: string;
  /** The pod's name (POD_NAME): the operator reads the leader's pod from it. */
  identity: string;
  onStartedLeading?(leadership: Leadership): void;
  onStoppedLeading?(reason: string): void;
  /** Halts (true) or resumes (false) trading; the acknowledgement is written once it resolves. */
  onKillSwitch(engaged: boolean): Promise<void> | void;
  onError?(err: Error): void;
}

export interface StageLease {
  elector: LeaseElector;
  stop(): Promise<void>;
}

export function startStageLease(opts: StageLeaseOptions): StageLease {
  let handling = false;
  let acknowledged: string | undefined;
  const elector: LeaseElector = new LeaseElector({
    ...opts,
    leaseDurationMs: opts.leaseDurationMs ?? STAGE_TIMING.leaseDurationMs,
    renewDeadlineMs: opts.renewDeadlineMs ?? STAGE_TIMING.renewDeadlineMs,
    retryPeriodMs: opts.retryPeriodMs ?? STAGE_TIMING.retryPeriodMs,
    create: false,
    onObserved: (lease: Lease) => {
      if (!elector.isLeader || handling) return;
      const engaged = lease.metadata.annotations?.[ANNOTATION_KILL_SWITCH] === "engaged";
      const halted = lease.metadata.annotations?.[ANNOTATION_HALTED];
      const epoch = String(elector.epoch);
      if (engaged && halted !== epoch && acknowledged !== epoch) {
        handling = true;
        Promise.resolve(opts.onKillSwitch(true))
          .then(() => {
            acknowledged = epoch;
            elector.setAnnotation(ANNOTATION_HALTED, epoch);
          })
          .catch((err: Error) => opts.onError?.(err))
          .finally(() => {
            handling = false;
          });
      } else if (!engaged && (halted !== undefined || acknowledged !== undefined)) {
        handling = true;
        Promise.resolve(opts.onKillSwitch(false))
          .then(() => {
            acknowledged = undefined;
            elector.setAnnotation(ANNOTATION_HALTED, null);
          })
          .catch((err: Error) => opts.onError?.(err))
          .finally(() => {
            handling = false;
          });
      }
    },
  });
  elector.start();
  return { elector, stop: () => elector.release() };
}
