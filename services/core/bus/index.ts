/** bus: topics, the Bus contract and its transports. */
export { BusCore, gapChannel, LocalMessage } from "./core.ts";
export { publishFields } from "./fields.ts";
export { InProcBus, type InProcBusOptions } from "./inproc.ts";
export {
  type NetworkBus,
  type OpenBusOptions,
  openBus,
  type Transport,
  transportOf,
} from "./open.ts";
export { allOf, kindOf, schemaOf, type TopicKind, TopicSchemas, Topics, topic } from "./topics.ts";
export {
  decodeMessage,
  publishMessage,
  subscribeDecoded,
  subscribeMessages,
} from "./typed.ts";
export type {
  Bus,
  BusHandler,
  BusMessage,
  BusObserver,
  BusOptions,
  BusStats,
  StreamPosition,
  Subscription,
} from "./types.ts";
export { socketPath, UdsBus, type UdsBusOptions } from "./uds.ts";
export { ZmqBus, type ZmqBusOptions } from "./zmq.ts";
