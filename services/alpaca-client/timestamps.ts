/**
 * Timestamps as nanoseconds since the epoch (bigint: ns do not fit a double).
 * JSON frames carry RFC 3339 strings with up to 9 fraction digits; MessagePack frames carry the
 * Timestamp extension (type -1), decoded here straight to ns so no precision is lost to Date.
 */
import { ExtensionCodec } from "@msgpack/msgpack";

const NS_PER_MS = 1_000_000n;

// Feeds send many timestamps within the same second: remember the last second's value.
let lastSecondText = "";
let lastSecondNs = 0n;

/** rfc3339ToNs parses "2024-01-02T15:04:05.123456789Z" (or with an offset) to epoch ns. */
export function rfc3339ToNs(text: string): bigint {
  const n = text.length;
  // Fast path: UTC "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the form Alpaca sends.
  if (n >= 20 && text.charCodeAt(n - 1) === 90 /* Z */ && text.charCodeAt(10) === 84 /* T */) {
    const sep = text.charCodeAt(19);
    if (sep === 90 || sep === 46 /* . */) {
      const second = text.slice(0, 19);
      if (second !== lastSecondText) {
        const ms = Date.parse(`${second}Z`);
        if (Number.isFinite(ms)) {
          lastSecondText = second;
          lastSecondNs = BigInt(ms) * NS_PER_MS;
        }
      }
      if (second === lastSecondText) {
        const fraction = sep === 46 ? text.slice(20, n - 1) : "";
        if (fraction.length <= 9 && /^\d*$/.test(fraction)) {
          return fraction.length === 0
            ? lastSecondNs
            : lastSecondNs + BigInt(fraction.padEnd(9, "0"));
        }
      }
    }
  }
  return rfc3339ToNsGeneral(text);
}

function rfc3339ToNsGeneral(text: string): bigint {
  const dot = text.indexOf(".", 17);
  let fraction = "";
  let rest = text;
  if (dot !== -1) {
    let end = dot + 1;
    while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
    fraction = text.slice(dot + 1, end);
    rest = text.slice(0, dot) + text.slice(end);
  }
  const ms = Date.parse(rest);
  if (!Number.isFinite(ms)) throw new RangeError(`not an RFC 3339 timestamp: ${text}`);
  const fracNs = fraction.length === 0 ? 0n : BigInt(fraction.slice(0, 9).padEnd(9, "0"));
  return BigInt(ms) * NS_PER_MS + fracNs;
}

/** nsToRfc3339 formats epoch ns as a UTC RFC 3339 string with 9 fraction digits. */
export function nsToRfc3339(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  const fracNs = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${fracNs.toString().padStart(9, "0")}Z`;
}

/** msgpackTimestampToNs decodes the 4-, 8- or 12-byte Timestamp extension payload. */
export function msgpackTimestampToNs(data: Uint8Array): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (data.byteLength) {
    case 4:
      return BigInt(view.getUint32(0)) * 1_000_000_000n;
    case 8: {
      const hi = view.getUint32(0);
      const lo = view.getUint32(4);
      const nsec = hi >>> 2;
      const sec = (hi & 0x3) * 0x1_0000_0000 + lo;
      return BigInt(sec) * 1_000_000_000n + BigInt(nsec);
    }
    case 12: {
      const nsec = view.getUint32(0);
      const sec = view.getBigInt64(4);
      return sec * 1_000_000_000n + BigInt(nsec);
    }
    default:
      throw new RangeError(`bad MessagePack timestamp length ${data.byteLength}`);
  }
}

/** nsExtensionCodec makes @msgpack/msgpack decode timestamps to bigint ns instead of Date. */
export const nsExtensionCodec = new ExtensionCodec();
nsExtensionCodec.register({
  type: -1,
  encode: () => null,
  decode: (data: Uint8Array) => msgpackTimestampToNs(data),
});

/** toNs accepts either wire form of `t`. */
export function toNs(t: unknown): bigint {
  if (typeof t === "bigint") return t;
  if (typeof t === "string") return rfc3339ToNs(t);
  if (t instanceof Date) return BigInt(t.getTime()) * NS_PER_MS;
  throw new RangeError(`not a timestamp: ${String(t)}`);
}
