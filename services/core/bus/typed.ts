/**
 * Typed publish and subscribe on top of any Bus: the topic decides the message type
 * (topics.ts), so publishing a Quote on an order topic fails here instead of in a subscriber.
 */
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { TradepipeError } from "../errors.ts";
import { schemaOf } from "./topics.ts";
import type { Bus, BusMessage, Subscription } from "./types.ts";

/** publishMessage encodes `message` with `schema` and publishes it; returns its sequence. */
export function publishMessage<Desc extends DescMessage>(
  bus: Bus,
  topic: string,
  schema: Desc,
  message: MessageShape<Desc>,
): number {
  const expected = schemaOf(topic);
  if (expected !== undefined && expected.typeName !== schema.typeName) {
    throw new TradepipeError(
      "TP_ERR_INVALID_MESSAGE",
      `topic ${topic}: carries ${expected.typeName}, not ${schema.typeName}`,
    );
  }
  return bus.publish(topic, toBinary(schema, message));
}

/** decodeMessage decodes a delivered message as its topic's type. */
export function decodeMessage<Desc extends DescMessage>(
  message: BusMessage,
  schema: Desc,
): MessageShape<Desc> {
  try {
    return fromBinary(schema, message.payload);
  } catch (error) {
    throw new TradepipeError(
      "TP_ERR_INVALID_MESSAGE",
      `topic ${message.topic} sequence ${message.sequence}: not a valid ${schema.typeName}`,
      { cause: error },
    );
  }
}

/** subscribeMessages delivers decoded messages of one type from the topics matching `filters`. */
export function subscribeMessages<Desc extends DescMessage>(
  bus: Bus,
  filters: readonly string[],
  schema: Desc,
  handler: (message: MessageShape<Desc>, meta: BusMessage) => void,
): Subscription {
  return bus.subscribe(filters, (meta) => handler(decodeMessage(meta, schema), meta));
}

/**
 * subscribeDecoded is subscribeMessages for inputs from other processes: a frame that does not
 * decode goes to `onInvalid` (count and log it) instead of failing the delivery.
 */
export function subscribeDecoded<Desc extends DescMessage>(
  bus: Bus,
  filters: readonly string[],
  schema: Desc,
  handler: (message: MessageShape<Desc>) => void,
  onInvalid: (err: Error) => void,
): Subscription {
  return bus.subscribe(filters, (meta) => {
    let message: MessageShape<Desc>;
    try {
      message = decodeMessage(meta, schema);
    } catch (err) {
      onInvalid(err as Error);
      return;
    }
    handler(message);
  });
}
