/**
 * apply: server-side apply with the operator's one field manager, plus the few plain writes it
 * needs. Applies are forced by default (status, finalizer, Lease annotations: fields only the
 * operator writes); owned children are applied unforced first (controller/ensure.ts), so an
 * object another manager holds is never taken over silently.
 */

import {
  APPLY_PATCH,
  isStatus,
  JSON_PATCH,
  type KubeClient,
} from "../../services/core/kube/client.ts";
import { FIELD_MANAGER } from "../api/names.ts";
import { resourceByKind, resourcePath } from "./resources.ts";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    ownerReferences?: { uid: string; kind: string; name: string; controller?: boolean }[];
  };
  [field: string]: unknown;
}

/** serverSideApply sends `manifest` as this manager's whole intent for the object. */
export function serverSideApply<T = KubeObject>(
  client: KubeClient,
  manifest: KubeObject,
  subresource?: "status",
  options: { force?: boolean } = {},
): Promise<T> {
  const rt = resourceByKind(manifest.kind);
  const { name, namespace } = manifest.metadata;
  return client.request<T>("PATCH", resourcePath(rt, namespace, name, subresource), {
    query: { fieldManager: FIELD_MANAGER, force: options.force ?? true },
    body: manifest,
    contentType: APPLY_PATCH,
  });
}

export function createObject<T = KubeObject>(client: KubeClient, manifest: KubeObject): Promise<T> {
  const rt = resourceByKind(manifest.kind);
  return client.request<T>("POST", resourcePath(rt, manifest.metadata.namespace), {
    query: { fieldManager: FIELD_MANAGER },
    body: manifest,
  });
}

export function getObject<T = KubeObject>(
  client: KubeClient,
  kind: string,
  namespace: string,
  name: string,
): Promise<T> {
  return client.request<T>("GET", resourcePath(resourceByKind(kind), namespace, name));
}

/**
 * getMetadata reads only an object's metadata (PartialObjectMetadata): the operator checks a
 * Secret's labels and owner without ever receiving its data.
 */
export function getMetadata(
  client: KubeClient,
  kind: string,
  namespace: string,
  name: string,
): Promise<KubeObject> {
  return client.request<KubeObject>("GET", resourcePath(resourceByKind(kind), namespace, name), {
    accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
  });
}

/** deleteObject deletes only the object with `uid` (a recreated namesake is left alone). */
export async function deleteObject(
  client: KubeClient,
  kind: string,
  namespace: string,
  name: string,
  uid?: string,
): Promise<void> {
  try {
    await client.request("DELETE", resourcePath(resourceByKind(kind), namespace, name), {
      body: { kind: "DeleteOptions", apiVersion: "v1", ...(uid ? { preconditions: { uid } } : {}) },
    });
  } catch (err) {
    if (isStatus(err, 404, 409)) return;
    throw err;
  }
}

/** removeFinalizer drops one finalizer with a test-guarded JSON patch (others' finalizers stay). */
export async function removeFinalizer(
  client: KubeClient,
  obj: KubeObject,
  finalizer: string,
): Promise<void> {
  const index = obj.metadata.finalizers?.indexOf(finalizer) ?? -1;
  if (index < 0) return;
  const path = `/metadata/finalizers/${index}`;
  await client.request(
    "PATCH",
    resourcePath(resourceByKind(obj.kind), obj.metadata.namespace, obj.metadata.name),
    {
      body: [
        { op: "test", path, value: finalizer },
        { op: "remove", path },
      ],
      contentType: JSON_PATCH,
    },
  );
}

export { isStatus } from "../../services/core/kube/client.ts";
