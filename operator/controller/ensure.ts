/**
 * ensure: apply a desired object unless the cache shows it as the operator left it.
 *
 * Skipping needs two things: the cached digest annotation equals the desired one (the spec did
 * not change), and nobody else changed the object since the operator wrote it (drift). The
 * digest alone is not enough: `kubectl edit` of a Role's rules keeps the annotation. So every
 * apply records what the apiserver answered — the object's uid and its `metadata.generation`
 * (kinds whose controllers write status often) or `resourceVersion` (the rest) — and a cached
 * object showing another value was changed by someone else, and is applied again. Stage Leases
 * are renewed by the stages every half second, so for them the fields the operator owns (labels,
 * the kill-switch annotation) are compared instead. After an operator restart nothing is
 * recorded, so each object is applied once more (a no-op when it is intact).
 *
 * Adoption: an object the operator has neither cached nor written is first looked up by name;
 * one that exists and is not controlled by the pipeline is refused, with a clear error, never
 * merged into. The apply itself is not forced: a conflict means another field manager owns a
 * field the operator sets, and the operator forces only on an object its pipeline controls.
 */
import { ANNOTATION_HASH, ANNOTATION_OWNER_UID } from "../api/names.ts";
import {
  createObject,
  getMetadata,
  isStatus,
  type KubeObject,
  serverSideApply,
} from "../kube/apply.ts";
import { resourceByKind, resourcePath } from "../kube/resources.ts";
import type { Manifest } from "../specs/common.ts";
import { type Caches, observeWrite, type ReconcileContext } from "./context.ts";

/** ReconcileRefused: the operator will not do this; `reason` becomes Ready's reason. */
export class ReconcileRefused extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** WrittenRecord: what the operator's last apply of one object returned. */
export interface WrittenRecord {
  uid: string;
  /** The generations and resourceVersions the operator's own applies produced (latest few). */
  versions: string[];
}

/** Kinds whose status is written by controllers: compare generations, not resourceVersions. */
const GENERATION_KINDS = new Set(["StatefulSet", "Deployment", "PodDisruptionBudget"]);
/** Kinds others write all the time by design: compare the operator's own fields. */
const OWNED_FIELDS_ONLY = new Set(["Lease"]);
const KEPT_VERSIONS = 4;

/** keyOf: kind/namespace/name; a cluster-scoped object's namespace is "" (the API omits it). */
export function keyOf(m: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`;
}

function versionOf(obj: KubeObject): string {
  return GENERATION_KINDS.has(obj.kind)
    ? `g${obj.metadata.generation ?? ""}`
    : `r${obj.metadata.resourceVersion ?? ""}`;
}

function includes(have: Record<string, string> | undefined, want: Record<string, string> = {}) {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

/** drifted: true when `cached` may differ from what the operator last wrote (pure). */
export function drifted(
  manifest: Manifest,
  cached: KubeObject,
  record: WrittenRecord | undefined,
): boolean {
  const metaIntact =
    includes(cached.metadata.labels, manifest.metadata.labels) &&
    includes(cached.metadata.annotations, manifest.metadata.annotations);
  if (!metaIntact) return true;
  if (OWNED_FIELDS_ONLY.has(manifest.kind)) return false;
  if (!record || record.uid !== cached.metadata.uid) return true;
  return !record.versions.includes(versionOf(cached));
}

export function remember(ctx: ReconcileContext, written: KubeObject): void {
  const key = keyOf(written);
  const uid = written.metadata.uid ?? "";
  const previous = ctx.written.get(key);
  const versions = previous?.uid === uid ? previous.versions : [];
  ctx.written.set(key, {
    uid,
    versions: [...versions.filter((v) => v !== versionOf(written)), versionOf(written)].slice(
      -KEPT_VERSIONS,
    ),
  });
}

/**
 * controllerUid: the uid of the object's controller, if any — its controller owner reference,
 * or for a cluster-scoped child (which may not name a namespaced owner) the owner annotation.
 */
function controllerUid(
  obj: Pick<KubeObject, "metadata"> | Pick<Manifest, "metadata"> | undefined,
): string | undefined {
  return (
    obj?.metadata.ownerReferences?.find((r) => r.controller)?.uid ??
    obj?.metadata.annotations?.[ANNOTATION_OWNER_UID]
  );
}

export async function ensure(ctx: ReconcileContext, manifest: Manifest): Promise<void> {
  const cache = ctx.caches[manifest.kind as keyof Caches];
  const { namespace, name } = manifest.metadata;
  const cached = cache?.get(namespace, name);
  const want = manifest.metadata.annotations?.[ANNOTATION_HASH];
  const record = ctx.written.get(keyOf(manifest));
  if (want && cached?.metadata.annotations?.[ANNOTATION_HASH] === want) {
    if (!drifted(manifest, cached, record)) {
      ctx.stats.skipped++;
      return;
    }
    if (record) ctx.stats.repaired++;
  }
  ctx.stats.applied++;
  const owner = controllerUid(manifest);
  const cachedController = controllerUid(cached);
  if (cached && cachedController !== undefined && cachedController !== owner) {
    throw refusal(manifest, `is controlled by another owner (uid ${cachedController})`);
  }
  let controlled = cached !== undefined && cachedController === owner;
  if (!cached && !record) {
    // Never seen by this operator: make sure nobody else made it (the cache holds only objects
    // carrying the operator's label). A list by name needs only the informer's permission.
    const existing = await findByName(ctx, manifest);
    const existingController = controllerUid(existing);
    if (existing && existingController !== owner) {
      throw refusal(
        manifest,
        existingController
          ? `is controlled by another owner (uid ${existingController})`
          : `already existed, managed by ${managersOf(existing).join(", ") || "someone else"}`,
      );
    }
    controlled = existing !== undefined;
  }
  let written: KubeObject;
  try {
    written = await serverSideApply(ctx.client, manifest as unknown as KubeObject, undefined, {
      force: false,
    });
  } catch (err) {
    if (isStatus(err, 422) && /one reference can have Controller/i.test((err as Error).message)) {
      throw refusal(manifest, "is controlled by another owner");
    }
    if (!isStatus(err, 409)) throw err;
    // A field the operator sets is owned by another manager. Force only on an object the
    // operator already controls (drift: someone edited it); refuse to take over anything else.
    if (!controlled) {
      throw refusal(manifest, `exists and is managed by someone else (${(err as Error).message})`);
    }
    written = await serverSideApply(ctx.client, manifest as unknown as KubeObject);
  }
  remember(ctx, written);
  observeWrite(ctx, written);
}

/** managersOf: the field managers of the object itself (not its status). */
function managersOf(obj: KubeObject): string[] {
  const entries =
    (obj.metadata as { managedFields?: { manager?: string; subresource?: string }[] })
      .managedFields ?? [];
  return [...new Set(entries.filter((e) => !e.subresource).map((e) => e.manager ?? "unknown"))];
}

/** findByName lists the one object of that name (list, not get: the informers' permission). */
async function findByName(
  ctx: ReconcileContext,
  manifest: Manifest,
): Promise<KubeObject | undefined> {
  const rt = resourceByKind(manifest.kind);
  const list = await ctx.client.request<{ items: KubeObject[] }>(
    "GET",
    resourcePath(rt, manifest.metadata.namespace),
    { query: { fieldSelector: `metadata.name=${manifest.metadata.name}` } },
  );
  return list.items[0];
}

function refusal(manifest: Manifest, what: string): ReconcileRefused {
  return new ReconcileRefused(
    "OwnershipConflict",
    `${manifest.kind} ${manifest.metadata.namespace}/${manifest.metadata.name} ${what}: the operator will not take it over; delete or rename it`,
  );
}

export async function ensureAll(
  ctx: ReconcileContext,
  manifests: readonly Manifest[],
): Promise<void> {
  await Promise.all(manifests.map((m) => ensure(ctx, m)));
}

type Identity = Pick<Manifest, "kind" | "metadata">;

function createdKey(m: Identity): string {
  const owner = m.metadata.ownerReferences.find((r) => r.controller)?.uid;
  return `${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}/${owner}`;
}

/**
 * ensureCreatedWith is ensureCreated for material that is costly to make (a CA and a
 * certificate: hundreds of ms on a loaded node): `build` runs only while the object named by
 * `identity` is not yet known to exist, not on every reconcile.
 */
export async function ensureCreatedWith(
  ctx: ReconcileContext,
  identity: Identity,
  build: () => Promise<Manifest>,
): Promise<boolean> {
  if (ctx.created.has(createdKey(identity))) return false;
  return ensureCreated(ctx, await build());
}

/**
 * ensureCreated creates an object once and never updates it (generated credentials): the
 * operator never reads a Secret's data. When one of that name exists already, its metadata
 * (never its data) says whether it is this pipeline's; one made by someone else is refused, so
 * a Secret planted before the pipeline (a password or keys its author knows) is never used.
 */
export async function ensureCreated(ctx: ReconcileContext, manifest: Manifest): Promise<boolean> {
  const { namespace = "", name } = manifest.metadata;
  const owner = manifest.metadata.ownerReferences.find((r) => r.controller)?.uid;
  const key = createdKey(manifest);
  if (ctx.created.has(key)) return false;
  try {
    await createObject(ctx.client, manifest as unknown as KubeObject);
    ctx.created.add(key);
    return true;
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
    const existing = await getMetadata(ctx.client, manifest.kind, namespace, name);
    const controller = controllerUid(existing);
    if (controller !== owner) {
      throw refusal(
        manifest,
        controller
          ? `is controlled by another owner (uid ${controller})`
          : "already existed, made by someone else",
      );
    }
    ctx.created.add(key);
    return false;
  }
}
