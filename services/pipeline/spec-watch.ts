/**
 * spec-watch: a running stage process follows its spec file (a ConfigMap mount in a pod, the
 * installed pipeline.yaml under systemd, the user's file under `tradepipe run`), so a setting
 * that must act at once — `spec.killSwitch: true` — does not wait for a restart. The file is
 * polled (a ConfigMap update swaps a symlink, which inotify on the file itself misses); an
 * unreadable or invalid new version is logged and ignored, the last valid one stays.
 */
import { unwatchFile, watchFile } from "node:fs";
import { readPipelineFile, type TradingPipeline } from "../core/spec/index.ts";
import type { Logger } from "../core/telemetry/index.ts";

/** POLL_MS keeps a spec change within a second of the stage (spec.killSwitch's promise). */
export const SPEC_POLL_MS = 400;

export interface SpecWatcher {
  watch(listener: (pipeline: TradingPipeline) => void): () => void;
  stop(): void;
}

export function watchSpecFile(path: string, log: Logger, pollMs = SPEC_POLL_MS): SpecWatcher {
  const listeners = new Set<(pipeline: TradingPipeline) => void>();
  let reading = Promise.resolve();
  const onChange = () => {
    reading = reading.then(async () => {
      const result = await readPipelineFile(path);
      if (!result.ok) {
        const problems = result.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
        log.warn({ file: path, problems }, "spec file changed but is not valid: ignored");
        return;
      }
      for (const l of listeners) l(result.pipeline);
    });
  };
  watchFile(path, { interval: pollMs, persistent: false }, onChange);
  return {
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      unwatchFile(path, onChange);
      listeners.clear();
    },
  };
}
