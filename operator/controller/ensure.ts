/**
 * ensure: apply a desired object unless the cache shows it already applied (same digest).
 * Server-side apply is idempotent, so skipping is only an optimisation: a stale cache at worst
 * costs one more apply.
 */
import { ANNOTATION_HASH } from "../api/names.ts";
import { createObject, isStatus, type KubeObject, serverSideApply } from "../kube/apply.ts";
import type { Manifest } from "../specs/common.ts";
import type { Caches, ReconcileContext } from "./context.ts";

export async function ensure(ctx: ReconcileContext, manifest: Manifest): Promise<void> {
  const cache = ctx.caches[manifest.kind as keyof Caches];
  const cached = cache?.get(manifest.metadata.namespace, manifest.metadata.name);
  const want = manifest.metadata.annotations?.[ANNOTATION_HASH];
  if (want && cached?.metadata.annotations?.[ANNOTATION_HASH] === want) {
    ctx.stats.skipped++;
    return;
  }
  ctx.stats.applied++;
  await serverSideApply(ctx.client, manifest as unknown as KubeObject);
}

export async function ensureAll(
  ctx: ReconcileContext,
  manifests: readonly Manifest[],
): Promise<void> {
  await Promise.all(manifests.map((m) => ensure(ctx, m)));
}

/**
 * ensureCreated creates an object once and never updates it (generated credentials). It needs
 * only the `create` permission: the operator never reads Secrets, it remembers which exist.
 */
export async function ensureCreated(ctx: ReconcileContext, manifest: Manifest): Promise<boolean> {
  const key = `${manifest.kind}/${manifest.metadata.namespace}/${manifest.metadata.name}/${manifest.metadata.ownerReferences[0]?.uid}`;
  if (ctx.created.has(key)) return false;
  try {
    await createObject(ctx.client, manifest as unknown as KubeObject);
    ctx.created.add(key);
    return true;
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
    ctx.created.add(key);
    return false;
  }
}
