/**
 * restart-policy decides, without side effects, what the supervisor does when a child exits:
 * restart it after a backoff, or give up because it keeps crashing fast. Pure so it is tested
 * with plain numbers; the supervisor supplies the clock.
 */
export interface RestartPolicy {
  /** First backoff after a crash, in ms; doubled per consecutive fast crash. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A run shorter than this counts as a fast crash. */
  fastCrashMs: number;
  /** This many fast crashes in a row and the supervisor stops and says why. */
  maxFastCrashes: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialBackoffMs: 250,
  maxBackoffMs: 8_000,
  fastCrashMs: 5_000,
  maxFastCrashes: 5,
};

export interface ChildHistory {
  /** Consecutive runs that ended within fastCrashMs; reset by a run that lasted longer. */
  fastCrashes: number;
  restarts: number;
}

export type RestartDecision =
  | { action: "restart"; delayMs: number; history: ChildHistory }
  | { action: "give-up"; reason: string; history: ChildHistory };

export function decideRestart(
  history: ChildHistory,
  ranForMs: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  const fast = ranForMs < policy.fastCrashMs;
  const fastCrashes = fast ? history.fastCrashes + 1 : 0;
  const next = { fastCrashes, restarts: history.restarts + 1 };
  if (fastCrashes >= policy.maxFastCrashes) {
    return {
      action: "give-up",
      reason: `crashed ${fastCrashes} times in a row, each within ${policy.fastCrashMs} ms of starting`,
      history: { ...next, restarts: history.restarts },
    };
  }
  const delayMs = fast
    ? Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (fastCrashes - 1))
    : policy.initialBackoffMs;
  return { action: "restart", delayMs, history: next };
}
