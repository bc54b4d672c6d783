/**
 * frame: the bytes of one bus message on any transport.
 *
 *   topic (ASCII) | 0x00 | protobuf payload | header stamp (29 bytes)
 *
 * The header stamp is a second encoding of the message's field 1 (Header) holding only
 * `sequence`, `publish_time_ns` and `publisher_id` as fixed64; protobuf merges repeated message
 * fields, so `payload + stamp` decodes as the original message with those three fields set.
 * Subscribers read them at fixed offsets from the end without decoding. The 0x00 after the topic
 * lets a prefix-filtering transport (ZeroMQ SUB) match a topic exactly: filter `topic\0`.
 */
import { TradepipeError } from "../errors.ts";

export const STAMP_LENGTH = 29;
const MAX_TOPIC_LENGTH = 200;
const TOPIC_CHARS = /^[\x21-\x7e]+$/;

/** topicBytes validates a topic and returns its bytes followed by the 0x00 terminator. */
export function topicBytes(topic: string): Buffer {
  if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH || !TOPIC_CHARS.test(topic)) {
    throw new TradepipeError(
      "TP_ERR_INVALID_MESSAGE",
      `topic ${JSON.stringify(topic)}: must be 1-${MAX_TOPIC_LENGTH} printable ASCII characters without spaces`,
    );
  }
  if (topic.includes("*")) {
    throw new TradepipeError(
      "TP_ERR_INVALID_MESSAGE",
      `topic ${JSON.stringify(topic)}: '*' is reserved for subscription filters`,
    );
  }
  return Buffer.from(`${topic}\0`, "latin1");
}

/**
 * encodeFrame copies topic, payload and stamp into one buffer of `prefix + frame` bytes, leaving
 * `prefix` bytes at the start for a transport's own framing (the Unix socket's length).
 */
export function encodeFrame(
  topicTerminated: Buffer,
  payload: Uint8Array,
  sequence: number,
  publishTimeNs: bigint,
  publisherId: number,
  prefix = 0,
): Buffer {
  const stampAt = prefix + topicTerminated.length + payload.length;
  const frame = Buffer.allocUnsafe(stampAt + STAMP_LENGTH);
  topicTerminated.copy(frame, prefix);
  frame.set(payload, prefix + topicTerminated.length);
  writeStamp(frame, stampAt, sequence, publishTimeNs, publisherId);
  return frame;
}

/**
 * stampedPayload: `payload` followed by the header stamp, in a new buffer: what a subscriber
 * gets as BusMessage.payload (the in-process bus makes it only when a subscriber asks).
 */
export function stampedPayload(
  payload: Uint8Array,
  sequence: number,
  publishTimeNs: bigint,
  publisherId: number,
): Buffer {
  const out = Buffer.allocUnsafe(payload.length + STAMP_LENGTH);
  out.set(payload, 0);
  writeStamp(out, payload.length, sequence, publishTimeNs, publisherId);
  return out;
}

function writeStamp(
  frame: Buffer,
  stampAt: number,
  sequence: number,
  publishTimeNs: bigint,
  publisherId: number,
): void {
  frame[stampAt] = 0x0a; // field 1, length-delimited
  frame[stampAt + 1] = 27;
  frame[stampAt + 2] = 0x11; // field 2 (sequence), fixed64
  writeUint64(frame, stampAt + 3, sequence);
  frame[stampAt + 11] = 0x21; // field 4 (publish_time_ns), fixed64
  frame.writeBigUInt64LE(publishTimeNs, stampAt + 12);
  frame[stampAt + 20] = 0x31; // field 6 (publisher_id), fixed64
  writeUint64(frame, stampAt + 21, publisherId);
}

/** DecodedFrame is a frame split into its parts; `payload` is a view into the frame. */
export interface DecodedFrame {
  topic: string;
  payload: Uint8Array;
  sequence: number;
  publishTimeNs: bigint;
  publisherId: number;
}

/** decodeFrame splits a frame, or returns undefined when the bytes are not a bus frame. */
export function decodeFrame(frame: Buffer): DecodedFrame | undefined {
  const end = frame.indexOf(0);
  const stampAt = frame.length - STAMP_LENGTH;
  if (end <= 0 || stampAt <= end) return undefined;
  if (
    frame[stampAt] !== 0x0a ||
    frame[stampAt + 1] !== 27 ||
    frame[stampAt + 2] !== 0x11 ||
    frame[stampAt + 11] !== 0x21 ||
    frame[stampAt + 20] !== 0x31
  ) {
    return undefined;
  }
  return {
    topic: frame.toString("latin1", 0, end),
    payload: frame.subarray(end + 1),
    sequence: readUint64(frame, stampAt + 3),
    publishTimeNs: frame.readBigUInt64LE(stampAt + 12),
    publisherId: readUint64(frame, stampAt + 21),
  };
}

function writeUint64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value >>> 0, at);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}

function readUint64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** newPublisherId returns a random 48-bit publisher identity (a safe JavaScript integer). */
export function newPublisherId(): number {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  let id = 0;
  for (const b of bytes) id = id * 256 + b;
  return id === 0 ? 1 : id;
}
