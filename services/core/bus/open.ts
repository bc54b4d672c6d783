/**
 * openBus picks the transport from the endpoints' scheme: `ipc://` and `tcp://` open a ZmqBus,
 * `unix://` a UdsBus. All endpoints of one bus must use one transport.
 */
import { TradepipeError } from "../errors.ts";
import type { Bus } from "./types.ts";
import { UdsBus, type UdsBusOptions } from "./uds.ts";
import { ZmqBus, type ZmqBusOptions } from "./zmq.ts";

/** NetworkBus is a bus between processes: it has endpoints and can (dis)connect upstreams. */
export interface NetworkBus extends Bus {
  readonly endpoints: readonly string[];
  connect(endpoint: string): void;
  disconnect(endpoint: string): void;
}

export type OpenBusOptions = ZmqBusOptions &
  UdsBusOptions & {
    /** Per-link bound on queued messages; sets each transport's own high-water marks. */
    highWaterMark?: number;
  };

export type Transport = "zmq" | "uds";

/** transportOf names the transport of an endpoint, or fails naming the endpoint. */
export function transportOf(endpoint: string): Transport {
  if (endpoint.startsWith("ipc://") || endpoint.startsWith("tcp://")) return "zmq";
  if (endpoint.startsWith("unix://")) return "uds";
  throw new TradepipeError(
    "TP_ERR_CONFIG",
    `bus endpoint ${JSON.stringify(endpoint)}: expected ipc://, tcp:// or unix://`,
  );
}

export async function openBus(options: OpenBusOptions): Promise<NetworkBus> {
  const endpoints = [...(options.bind ?? []), ...(options.connect ?? [])];
  const transports = new Set(endpoints.map(transportOf));
  if (transports.size > 1) {
    throw new TradepipeError(
      "TP_ERR_CONFIG",
      `bus endpoints ${endpoints.join(", ")}: mix transports; use one per bus`,
    );
  }
  const hwm = options.highWaterMark;
  if (transports.has("uds")) {
    if (options.curve) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        "bus: CURVE keys are for ZeroMQ endpoints (tcp://, ipc://); unix:// sockets are guarded by file permissions",
      );
    }
    return UdsBus.open(options);
  }
  return ZmqBus.open({
    ...options,
    ...(hwm === undefined ? {} : { sendHighWaterMark: hwm, receiveHighWaterMark: hwm }),
  });
}
