/**
 * events: Kubernetes Events for notable transitions of a TradingPipeline (kubectl describe tp
 * shows them). Recording is best effort: a failed Event never fails a reconcile.
 */

import type { KubeClient } from "../../services/core/kube/client.ts";
import { toMicroTime } from "../../services/core/kube/lease-record.ts";
import type { KubeObject } from "../kube/apply.ts";
import { RESOURCES, resourcePath } from "../kube/resources.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Settles when every Event sent so far has been written (tests, shutdown). */
  flush(): Promise<void>;
}

export function createEventRecorder(
  client: KubeClient,
  component: string,
  onError: (err: Error) => void,
): EventRecorder {
  const inflight = new Set<Promise<unknown>>();
  return {
    event(obj, type, reason, message) {
      const ns = obj.metadata.namespace ?? "default";
      const now = Date.now();
      const body = {
        apiVersion: "v1",
        kind: "Event",
        metadata: { generateName: `${obj.metadata.name}.`, namespace: ns },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: ns,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component },
        reportingComponent: component,
        reportingInstance: process.env.POD_NAME ?? component,
        action: reason,
        firstTimestamp: new Date(now).toISOString(),
        lastTimestamp: new Date(now).toISOString(),
        eventTime: toMicroTime(now),
        count: 1,
      };
      const p = client
        .request("POST", resourcePath(RESOURCES.Event, ns), { body })
        .catch((err: Error) => onError(err))
        .finally(() => inflight.delete(p));
      inflight.add(p);
    },
    async flush() {
      await Promise.all([...inflight]);
    },
  };
}
