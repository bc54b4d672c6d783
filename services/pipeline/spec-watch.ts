/**
 * spec-watch: a running stage process follows its spec file (a ConfigMap mount in a pod, the
 * installed pipeline.yaml under systemd, the user's file under `tradepipe run`), so a setting
 * that must act at once — `spec.killSwitch: true` — does not wait for a restart. The file is
 * polled (a ConfigMap update swaps a symlink, which inotify on the file itself misses); an
 * unreadable or invalid new version is logged and ignored, the last valid one stays.
 */
import { readFileSync } from "node:fs";
import { readPipelineFile, type TradingPipeline } from "../core/spec/index.ts";
import type { Logger } from "../core/telemetry/index.ts";

/** POLL_MS keeps a spec change within a second of the stage (spec.killSwitch's promise). */
export const SPEC_POLL_MS = 400;

export interface SpecWatcher {
  watch(listener: (pipeline: TradingPipeline) => void): () => void;
  stop(): void;
}

/**
 * watchSpecFile compares the file's text, read through any symlinks, with the text it saw last.
 * The first text is read here, synchronously, so a change made right after the call is never
 * taken for the starting version (fs.watchFile takes its first stat later, and a swap in between
 * went unseen); comparing text also catches a swap that keeps the size and the mtime.
 */
export function watchSpecFile(path: string, log: Logger, pollMs = SPEC_POLL_MS): SpecWatcher {
  const listeners = new Set<(pipeline: TradingPipeline) => void>();
  const readText = (): string | undefined => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  let lastText = readText();
  let busy = false;
  const poll = async () => {
    if (busy) return;
    const text = readText();
    if (text === undefined || text === lastText) return;
    lastText = text;
    busy = true;
    try {
      const result = await readPipelineFile(path);
      if (!result.ok) {
        const problems = result.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
        log.warn({ file: path, problems }, "spec file changed but is not valid: ignored");
        return;
      }
      for (const l of listeners) l(result.pipeline);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), pollMs);
  timer.unref();
  return {
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      clearInterval(timer);
      listeners.clear();
    },
  };
}
