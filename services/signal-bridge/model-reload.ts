/**
 * Model hot reload: the signal-bridge keeps trading on the model it runs while a new version is
 * loaded and checked off the tick path, and swaps to it only when every check passes. A new
 * version comes from a spec change that names another file, or from the file in use being
 * replaced (a new model written over it, a ConfigMap update). A version that is refused (not a
 * loadable ONNX model, other features, another feature-definition hash, another dtype or width,
 * golden rows that do not reproduce) is reported and the previous model goes on scoring.
 *
 * The checks are the start-up checks (loadCheckedModel is what the stage runs at start, where a
 * refusal stops the stage instead). The file is read once per version: the session, the
 * metadata and the hash all come from the same bytes, so a file being rewritten meanwhile can
 * give a refusal (a torn read) but never a session of one version with the metadata of another.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { isTradepipeError, TradepipeError } from "../core/errors.ts";
import { readModelContract, verifyLoadedModel } from "./model-contract.ts";
import { loadModelScorer, type ModelScorer, resolveModelPath } from "./model-scorer.ts";
import type { FeatureRef } from "./strategy/api.ts";

/** MODEL_POLL_MS: how often the files of the models in use are checked for a new version. */
export const MODEL_POLL_MS = 1000;

/** What the running strategies need of a model: its input width and, when declared, features. */
export interface ModelNeed {
  readonly inputs: number;
  readonly features: readonly FeatureRef[] | undefined;
}

/** A model loaded and checked: the scorer and the version of the file it came from. */
export interface CheckedModel {
  readonly scorer: ModelScorer;
  /** The resolved file. */
  readonly path: string;
  /** sha256 of the bytes the session was built from (hex). */
  readonly sha256: string;
  /** `name@<first 12 hex of sha256>`: the signal's `model`. */
  readonly label: string;
}

/**
 * loadCheckedModel reads the file once, builds the session from those bytes and checks it
 * against `need`: input width, and for a model with declared features the whole contract
 * (model-contract.ts) with its golden rows scored through this very session. Throws
 * TP_ERR_CONFIG naming the file and what is wrong; nothing is left open when it throws.
 */
export async function loadCheckedModel(path: string, need: ModelNeed): Promise<CheckedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `model ${path} cannot be read: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const scorer = await loadModelScorer(path, { inputs: need.inputs, bytes });
  try {
    checkWidth(path, bytes, need.inputs);
    if (need.features !== undefined) verifyLoadedModel(path, scorer, need.features, bytes);
  } catch (err) {
    await scorer.dispose();
    throw err;
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { scorer, path, sha256, label: `${basename(path, ".onnx")}@${sha256.slice(0, 12)}` };
}

/** checkWidth refuses a model whose `features` input is not `inputs` wide (a fixed last dim). */
function checkWidth(path: string, bytes: Uint8Array, inputs: number): void {
  let shape: readonly number[];
  try {
    shape = readModelContract(path, bytes).inputShape;
  } catch (err) {
    if (isTradepipeError(err)) throw err;
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `model ${path} refused: its ONNX model description cannot be decoded (${(err as Error).message})`,
      { cause: err },
    );
  }
  const width = shape.at(-1);
  if (width !== undefined && width !== -1 && width !== inputs) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `model ${path} refused: input shape is [${shape.join(",")}], the strategy writes ${inputs} features`,
    );
  }
}

/** Why a new version was looked at. */
export type SwapCause = "spec" | "file";

/** SwapOutcome is one attempt to replace a model in use (status, metric, log and channel). */
export type SwapOutcome =
  | {
      readonly key: string;
      readonly cause: SwapCause;
      readonly result: "swapped";
      readonly path: string;
      readonly label: string;
      readonly previous: string;
    }
  | {
      readonly key: string;
      readonly cause: SwapCause;
      readonly result: "refused";
      readonly path: string;
      readonly reason: string;
      /** The model that goes on scoring. */
      readonly kept: string;
    };

/** One model in use, under the key the strategies named it by at start (their model path). */
interface Active {
  readonly need: ModelNeed;
  model: CheckedModel;
  /** stat signature of the last version of `model.path` looked at (mtime, size, inode). */
  signature: string;
}

export interface ModelReloaderOptions {
  /**
   * install swaps the scorer in between two ticks; it resolves once the new scorer is in use and
   * the previous one is no longer running (it is freed then).
   */
  install(key: string, model: CheckedModel): void | Promise<void>;
  /** report is told every outcome, swapped or refused. */
  report(outcome: SwapOutcome): void;
  pollMs?: number;
}

/**
 * ModelReloader owns the models in use after start: it watches their files, takes requests for
 * other files (spec changes), loads and checks each candidate one at a time (the newest request
 * per key wins), and hands valid ones to `install`. A refused candidate changes nothing.
 */
export class ModelReloader {
  readonly #active = new Map<string, Active>();
  readonly #wanted = new Map<string, { path: string; cause: SwapCause }>();
  readonly #opts: ModelReloaderOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #working: Promise<void> | undefined;
  #polling = false;
  #stopped = false;

  constructor(opts: ModelReloaderOptions) {
    this.#opts = opts;
  }

  /** add registers a model loaded at start under `key`. */
  async add(key: string, need: ModelNeed, model: CheckedModel): Promise<void> {
    this.#active.set(key, { need, model, signature: await signatureOf(model.path) });
  }

  /** current is the model in use under `key`. */
  current(key: string): CheckedModel | undefined {
    return this.#active.get(key)?.model;
  }

  /** keys are the models in use. */
  keys(): string[] {
    return [...this.#active.keys()];
  }

  /**
   * request asks for `modelRef` (absolute, or relative to the repository root) under `key`. The
   * model in use is asked for again only when its file changed (the file watch does that).
   */
  request(key: string, modelRef: string, cause: SwapCause): void {
    const active = this.#active.get(key);
    if (active === undefined || this.#stopped) return;
    let path: string;
    try {
      path = resolveModelPath(modelRef);
    } catch (err) {
      this.#refuse(key, cause, modelRef, (err as Error).message);
      return;
    }
    if (path === active.model.path && cause === "spec") {
      this.#wanted.delete(key);
      return;
    }
    this.#wanted.set(key, { path, cause });
    this.#kick();
  }

  /** watchFiles polls the files of the models in use; a changed file is loaded and checked. */
  watchFiles(): void {
    const pollMs = this.#opts.pollMs ?? MODEL_POLL_MS;
    this.#timer = setInterval(() => void this.#poll(), pollMs);
    this.#timer.unref();
  }

  /** idle resolves once no candidate is being loaded (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#working) await this.#working;
  }

  /** stop ends the watch, waits for a load in progress, and frees every session (`dispose`). */
  async stop(opts: { dispose: boolean } = { dispose: true }): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.idle();
    if (opts.dispose) for (const a of this.#active.values()) await a.model.scorer.dispose();
    this.#active.clear();
  }

  async #poll(): Promise<void> {
    if (this.#polling || this.#stopped) return;
    this.#polling = true;
    try {
      for (const [key, a] of this.#active) {
        const signature = await signatureOf(a.model.path);
        if (signature === a.signature) continue;
        a.signature = signature;
        if (signature === "") {
          this.#refuse(key, "file", a.model.path, `model file ${a.model.path} disappeared`);
          continue;
        }
        this.#wanted.set(key, { path: a.model.path, cause: "file" });
        this.#kick();
      }
    } finally {
      this.#polling = false;
    }
  }

  #kick(): void {
    if (this.#working) return;
    this.#working = this.#drain().finally(() => {
      this.#working = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const next = this.#wanted.entries().next();
      if (next.done || this.#stopped) return;
      const [key, { path, cause }] = next.value;
      this.#wanted.delete(key);
      const active = this.#active.get(key)!;
      let model: CheckedModel;
      try {
        model = await loadCheckedModel(path, active.need);
      } catch (err) {
        this.#refuse(key, cause, path, (err as Error).message);
        continue;
      }
      if (this.#stopped) {
        await model.scorer.dispose();
        return;
      }
      if (model.path === active.model.path && model.sha256 === active.model.sha256) {
        // Touched, not changed: the same bytes are already scoring.
        await model.scorer.dispose();
        continue;
      }
      const previous = active.model;
      active.model = model;
      active.signature = await signatureOf(model.path);
      await this.#opts.install(key, model);
      this.#opts.report({
        key,
        cause,
        result: "swapped",
        path,
        label: model.label,
        previous: previous.label,
      });
      await previous.scorer.dispose();
    }
  }

  #refuse(key: string, cause: SwapCause, path: string, reason: string): void {
    const kept = this.#active.get(key)?.model.label ?? "";
    this.#opts.report({ key, cause, result: "refused", path, reason, kept });
  }
}

/** signatureOf is a file's (mtime, size, inode), "" when it cannot be read. */
async function signatureOf(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return "";
  }
}
