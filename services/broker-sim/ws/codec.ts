/**
 * codec: frames for the simulator's streams. Messages are built with `t` as bigint nanoseconds;
 * the JSON codec renders it as an RFC-3339 nanosecond string and the MessagePack codec as the
 * MessagePack Timestamp extension (type −1), which is what Alpaca sends when a client asks for
 * `Content-Type: application/msgpack`.
 */
import {
  decode,
  EXT_TIMESTAMP,
  ExtData,
  encode,
  encodeTimeSpecToTimestamp,
} from "@msgpack/msgpack";
import { formatRfc3339, NS_PER_SEC } from "../core/time.ts";

export type Codec = "json" | "msgpack";

export type StreamMessage = Record<string, unknown>;

function renderTime(m: StreamMessage, codec: Codec): StreamMessage {
  const t = m["t"];
  if (typeof t !== "bigint") return m;
  if (codec === "json") return { ...m, t: formatRfc3339(t) };
  const sec = t / NS_PER_SEC;
  const nsec = Number(t - sec * NS_PER_SEC);
  return {
    ...m,
    t: new ExtData(EXT_TIMESTAMP, encodeTimeSpecToTimestamp({ sec: Number(sec), nsec })),
  };
}

/** encodeFrame renders one frame (an array for market data, an object for trade updates). */
export function encodeFrame(
  payload: StreamMessage | StreamMessage[],
  codec: Codec,
): string | Uint8Array {
  const rendered = Array.isArray(payload)
    ? payload.map((m) => renderTime(m, codec))
    : renderTime(payload, codec);
  return codec === "json" ? JSON.stringify(rendered) : encode(rendered);
}

/** decodeFrame parses an incoming client frame; undefined when it is not valid JSON/MessagePack. */
export function decodeFrame(
  data: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
  codec: Codec,
): unknown {
  const buf = Array.isArray(data)
    ? Buffer.concat(data)
    : Buffer.isBuffer(data)
      ? data
      : Buffer.from(data);
  if (isBinary && codec === "msgpack") {
    try {
      return decode(buf);
    } catch {
      // fall through: some clients send JSON text in binary frames
    }
  }
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch {
    return undefined;
  }
}

export function wantsMsgpack(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().includes("msgpack") ?? false;
}
