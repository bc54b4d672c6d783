/**
 * embedded-supervisor keeps the embedded Postgres of `tradepipe run` running the way the stage
 * supervisor keeps a stage: a server that exits without being asked (a crash, kill -9, the OOM
 * killer) is started again on the same data directory and port — Postgres replays its WAL
 * (crash recovery) before it accepts connections, and the stages, which ride out the outage,
 * reconnect on their own. The same restart policy applies: backoff, and a give-up with the
 * reason after repeated fast crashes.
 */
import {
  type ChildHistory,
  DEFAULT_RESTART_POLICY,
  decideRestart,
  type RestartPolicy,
} from "../../supervisor/restart-policy.ts";
import type { EmbeddedLog, EmbeddedPostgres } from "./embedded.ts";

/** EmbeddedServerStatus: what the status screen shows about the embedded server. */
export interface EmbeddedServerStatus {
  state: "up" | "restarting" | "failed";
  /** Restarts after a crash so far. */
  restarts: number;
  pid: number;
  /** The last crash: how it ended and when (ISO time). */
  lastCrash?: { how: string; at: string };
  /** How long the last restart took, crash to accepting connections (ms). */
  lastRecoveryMs?: number;
}

export interface EmbeddedSupervision {
  status(): EmbeddedServerStatus;
  /** Settles with the reason when the supervisor gave up restarting the server. */
  failed: Promise<string>;
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  /** Starts the server again (same data directory and port). */
  restart(): Promise<EmbeddedPostgres>;
  log?: EmbeddedLog;
  policy?: RestartPolicy;
  /** Called on every change of status (the status screen redraws). */
  onChange?(status: EmbeddedServerStatus): void;
}

/** superviseEmbedded watches `first` and restarts the server whenever it crashes. */
export function superviseEmbedded(
  first: EmbeddedPostgres,
  opts: SuperviseOptions,
): EmbeddedSupervision {
  const policy = opts.policy ?? DEFAULT_RESTART_POLICY;
  let server = first;
  let startedAt = Date.now();
  let history: ChildHistory = { fastCrashes: 0, restarts: 0 };
  let stopped = false;
  const status: EmbeddedServerStatus = { state: "up", restarts: 0, pid: first.pid };
  let giveUp: (reason: string) => void = () => {};
  const failed = new Promise<string>((r) => {
    giveUp = r;
  });
  const changed = () => opts.onChange?.({ ...status });

  const watch = (s: EmbeddedPostgres) => {
    void s.exited.then(async (how) => {
      if (stopped) return;
      const crashedAt = Date.now();
      status.state = "restarting";
      status.lastCrash = { how, at: new Date(crashedAt).toISOString() };
      opts.log?.warn({ how, pid: s.pid }, "embedded postgres crashed: restarting it");
      changed();
      for (;;) {
        const decision = decideRestart(history, Date.now() - startedAt, policy);
        history = decision.history;
        if (decision.action === "give-up") {
          status.state = "failed";
          changed();
          giveUp(`embedded Postgres ${decision.reason}`);
          return;
        }
        await new Promise((r) => setTimeout(r, decision.delayMs));
        if (stopped) return;
        startedAt = Date.now();
        try {
          server = await opts.restart();
        } catch (err) {
          // A server that cannot start yet (its old backends still hold shared memory) is a
          // fast crash for the policy.
          opts.log?.warn({ err: (err as Error).message }, "embedded postgres did not start");
          continue;
        }
        if (stopped) {
          await server.stop();
          return;
        }
        status.state = "up";
        status.restarts++;
        status.pid = server.pid;
        status.lastRecoveryMs = Date.now() - crashedAt;
        opts.log?.warn(
          { pid: server.pid, recoveryMs: status.lastRecoveryMs },
          "embedded postgres restarted (crash recovery done)",
        );
        changed();
        watch(server);
        return;
      }
    });
  };
  watch(first);
  return {
    status: () => ({ ...status }),
    failed,
    async stop() {
      stopped = true;
      await server.stop();
    },
  };
}
