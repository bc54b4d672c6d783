/**
 * informer: a cache of one resource kind kept current by list + watch, the client-go reflector's
 * contract: list, then watch from the list's resourceVersion (with bookmarks and a server-side
 * timeout), follow every event's resourceVersion, re-list on 410 Gone, restart after ANY error
 * with capped backoff, treat a silent stream as failed (inactivity timeout), and replay the cache
 * to the handler every resync period so level-triggered reconciles catch anything missed.
 *
 * Read-your-writes (client-go's mutation cache): `observe(obj)` keeps the apiserver's answer to
 * the operator's own write beside the store, and `get`/`list` return it while it is newer than
 * anything the watch has delivered, so the next reconcile reads what it wrote although the watch
 * lags. The store itself, and so every event and its `old` object, follows the watch alone: an
 * event is never lost or merged away because a write overtook it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClient } from "../../services/core/kube/client.ts";
import type { KubeObject } from "./apply.ts";
import { type ResourceType, resourcePath } from "./resources.ts";

export type InformerEventType = "ADDED" | "MODIFIED" | "DELETED" | "RESYNC";

export interface InformerOptions {
  /** Watch one namespace; all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  /** Replay the cache to the handler this often (0: never). */
  resyncMs?: number;
  /** `old` is the cached object a MODIFIED event replaces. */
  onEvent(type: InformerEventType, obj: KubeObject, old?: KubeObject): void;
  onError?(err: Error): void;
}

interface ListResult {
  metadata: { resourceVersion: string; continue?: string };
  items: KubeObject[];
}

export function objectKey(obj: { metadata: { namespace?: string; name: string } }): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

export class Informer {
  readonly resource: ResourceType;
  private readonly client: KubeClient;
  private readonly options: InformerOptions;
  private readonly store = new Map<string, KubeObject>();
  /** The operator's own writes not yet delivered by the watch, by key. */
  private readonly written = new Map<string, KubeObject>();
  private readonly abort = new AbortController();
  private resourceVersion: string | undefined;
  private syncedResolve: () => void = () => {};
  private resyncTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  /** synced resolves after the first complete list. */
  readonly synced: Promise<void>;
  /** Counts of lists and watch restarts, for metrics and tests. */
  readonly stats = { lists: 0, watches: 0, errors: 0, gone: 0 };

  constructor(client: KubeClient, resource: ResourceType, options: InformerOptions) {
    this.client = client;
    this.resource = resource;
    this.options = options;
    this.synced = new Promise((r) => {
      this.syncedResolve = r;
    });
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    const resync = this.options.resyncMs ?? 0;
    if (resync > 0) {
      this.resyncTimer = setInterval(() => {
        for (const obj of this.store.values()) this.options.onEvent("RESYNC", obj);
      }, resync);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.loop;
  }

  /**
   * observe keeps `written`, the apiserver's answer to a write of the caller's own, until the
   * watch delivers that version or a later one. An answer the watch has already passed, or
   * older than one kept, is ignored. No event is raised.
   */
  observe(written: KubeObject): void {
    const rv = written.metadata.resourceVersion;
    if (!isNewer(rv, this.resourceVersion)) return;
    const obj = withKind(written, this.resource);
    const key = objectKey(obj);
    if (!isNewer(rv, this.current(key)?.metadata.resourceVersion)) return;
    this.written.set(key, obj);
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.current(`${namespace}/${name}`);
  }

  list(filter?: (o: KubeObject) => boolean): KubeObject[] {
    const all: KubeObject[] = [];
    for (const key of new Set([...this.store.keys(), ...this.written.keys()])) {
      const obj = this.current(key);
      if (obj) all.push(obj);
    }
    return filter ? all.filter(filter) : all;
  }

  /**
   * current: a kept write while the watch has not reached its version (every stored object is
   * at or below the watch's resourceVersion, so the write is the newer); else the store's.
   */
  private current(key: string): KubeObject | undefined {
    const written = this.written.get(key);
    if (written) {
      if (isNewer(written.metadata.resourceVersion, this.resourceVersion)) return written;
      this.written.delete(key); // the watch delivered it, or what came after it (even a delete)
    }
    return this.store.get(key);
  }

  get size(): number {
    return this.store.size;
  }

  private path(): string {
    return resourcePath(this.resource, this.options.namespace);
  }

  private async run(): Promise<void> {
    let backoffMs = 200;
    while (!this.abort.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        await this.watchOnce();
        backoffMs = 200;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        const status = (err as { status?: number }).status;
        if (status === 410) {
          this.stats.gone++;
          this.resourceVersion = undefined;
          continue;
        }
        this.stats.errors++;
        this.options.onError?.(err as Error);
        await sleep(backoffMs * (0.8 + Math.random() * 0.4), undefined, {
          signal: this.abort.signal,
        }).catch(() => {});
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await this.client.request<ListResult>("GET", this.path(), {
        query: { labelSelector: this.options.labelSelector, limit: 500, continue: cont },
        signal: this.abort.signal,
      });
      for (const item of page.items) fresh.set(objectKey(item), withKind(item, this.resource));
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    this.stats.lists++;
    const previous = new Map(this.store);
    this.store.clear();
    for (const [k, obj] of fresh) {
      this.store.set(k, obj);
      const old = previous.get(k);
      if (!old) this.options.onEvent("ADDED", obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) {
        this.options.onEvent("MODIFIED", obj, old);
      }
    }
    for (const [k, old] of previous) if (!fresh.has(k)) this.options.onEvent("DELETED", old);
    this.resourceVersion = rv;
    this.syncedResolve();
  }

  private async watchOnce(): Promise<void> {
    this.stats.watches++;
    // Like client-go: a random 5-10 min server timeout, so watches of many informers don't align.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const events = this.client.watch(
      this.path(),
      {
        labelSelector: this.options.labelSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      },
      this.abort.signal,
      (timeoutSeconds + 30) * 1000,
    );
    for await (const event of events) {
      const obj = event.object as unknown as KubeObject;
      if (event.type === "ERROR") {
        const status = obj as unknown as { code?: number; message?: string };
        const err = new Error(`watch ${this.path()}: ${status.message ?? "error"}`);
        (err as Error & { status?: number }).status = status.code;
        throw err;
      }
      const rv = obj.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (event.type === "BOOKMARK") continue;
      const typed = withKind(obj, this.resource);
      const key = objectKey(typed);
      const old = this.store.get(key);
      if (event.type === "DELETED") this.store.delete(key);
      else this.store.set(key, typed);
      this.options.onEvent(event.type === "ADDED" && old ? "MODIFIED" : event.type, typed, old);
    }
  }
}

/**
 * isNewer: whether resourceVersion `a` is later than `b` (a missing `b` is older than any `a`).
 * Kubernetes calls resourceVersions opaque; every etcd-backed apiserver issues them as one
 * increasing integer, which is what this compares. Anything else counts as not newer, so
 * observe() then leaves reads to the watch alone.
 */
export function isNewer(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || !/^[0-9]+$/.test(a)) return false;
  if (b === undefined || b === "") return true;
  if (!/^[0-9]+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}

/**
 * withKind: list items come without apiVersion/kind; fill them in so objects are
 * self-describing. managedFields are dropped: nothing reads them from the cache and they are
 * often the larger part of an object (controller-runtime strips them the same way).
 */
function withKind(obj: KubeObject, rt: ResourceType): KubeObject {
  delete (obj.metadata as { managedFields?: unknown }).managedFields;
  if (obj.kind) return obj;
  obj.apiVersion = rt.group ? `${rt.group}/${rt.version}` : rt.version;
  obj.kind = rt.kind;
  return obj;
}
