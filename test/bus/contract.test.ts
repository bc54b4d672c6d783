/** Runs the bus contract against every implementation. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { InProcBus } from "../../services/core/bus/inproc.ts";
import { UdsBus } from "../../services/core/bus/uds.ts";
import { ZmqBus } from "../../services/core/bus/zmq.ts";
import { runBusContract } from "./contract.ts";

const dir = mkdtempSync(join(tmpdir(), "tradepipe-bus-contract-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

for (const delivery of ["sync", "microtask"] as const) {
  runBusContract({
    name: `InProcBus (${delivery})`,
    async newBus(options = {}) {
      const bus = new InProcBus({
        ...options.publisher,
        ...options.subscriber,
        delivery,
        highWaterMark: options.highWaterMark ?? 100_000,
      });
      return { publisher: bus, subscriber: bus };
    },
  });
}

for (const transport of ["ipc", "tcp"] as const) {
  runBusContract({
    name: `ZmqBus (${transport}://)`,
    async newBus(options = {}) {
      const endpoint =
        transport === "ipc" ? `ipc://${join(dir, `bus-${n++}.sock`)}` : "tcp://127.0.0.1:*";
      const hwm = options.highWaterMark;
      const publisher = await ZmqBus.open({
        ...options.publisher,
        bind: [endpoint],
        ...(hwm === undefined ? {} : { sendHighWaterMark: hwm }),
      });
      const subscriber = await ZmqBus.open({
        ...options.subscriber,
        connect: publisher.endpoints,
        ...(hwm === undefined ? {} : { receiveHighWaterMark: hwm }),
      });
      return { publisher, subscriber };
    },
  });
}

runBusContract({
  name: "UdsBus (unix://)",
  async newBus(options = {}) {
    const hwm = options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark };
    const endpoint = `unix://${join(dir, `uds-${n++}.sock`)}`;
    const publisher = await UdsBus.open({ ...options.publisher, bind: [endpoint], ...hwm });
    const subscriber = await UdsBus.open({ ...options.subscriber, connect: [endpoint], ...hwm });
    return { publisher, subscriber };
  },
});
