/**
 * attribution-worker: runs `attribute` off the server's event loop. Replaying 100k fills takes
 * about a second, long enough to hold up the live stream and every other request if done inline.
 */
import { parentPort, Worker } from "node:worker_threads";
import { type Attribution, type AttributionInput, attribute } from "./attribution.ts";

if (parentPort) {
  const port = parentPort;
  port.on("message", (input: AttributionInput) => port.postMessage(attribute(input)));
}

/** attributeOffThread computes the attribution in a short-lived worker thread. */
export function attributeOffThread(input: AttributionInput): Promise<Attribution> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url));
    worker.once("message", (a: Attribution) => {
      resolve(a);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.postMessage(input);
  });
}
