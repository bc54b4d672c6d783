import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, ExtensionCodec, encode } from "@msgpack/msgpack";
import { msgpackTimestampToNs, nsExtensionCodec, nsToRfc3339, rfc3339ToNs } from "./timestamps.ts";

test("rfc3339ToNs keeps all nine fraction digits", () => {
  assert.equal(rfc3339ToNs("2024-03-01T14:30:00.123456789Z"), 1709303400123456789n);
  assert.equal(rfc3339ToNs("2024-03-01T14:30:00Z"), 1709303400000000000n);
  assert.equal(rfc3339ToNs("2024-03-01T14:30:00.5Z"), 1709303400500000000n);
  assert.equal(rfc3339ToNs("2024-03-01T09:30:00.000000001-05:00"), 1709303400000000001n);
  assert.throws(() => rfc3339ToNs("yesterday"), /not an RFC 3339/);
  assert.throws(() => rfc3339ToNs("2024-13-01T14:30:00.5Z"), /not an RFC 3339/);
  // The same second twice (the cached path), then another second.
  assert.equal(rfc3339ToNs("2024-03-01T14:30:00.000000002Z"), 1709303400000000002n);
  assert.equal(rfc3339ToNs("2024-03-01T14:30:01.1Z"), 1709303401100000000n);
  assert.throws(() => rfc3339ToNs("2024-03-01T14:30:01.1x2Z"), /not an RFC 3339/);
});

test("nsToRfc3339 is the inverse of rfc3339ToNs", () => {
  const ns = 1709303400123456789n;
  assert.equal(nsToRfc3339(ns), "2024-03-01T14:30:00.123456789Z");
  assert.equal(rfc3339ToNs(nsToRfc3339(ns)), ns);
});

/** timestampPayload builds the extension payload the way a server encoder would (12-byte form). */
function timestamp96(sec: bigint, nsec: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, nsec);
  v.setBigInt64(4, sec);
  return b;
}

test("msgpackTimestampToNs decodes the 32-, 64- and 96-bit forms", () => {
  const b32 = new Uint8Array([0x65, 0xe1, 0xe8, 0x68]);
  assert.equal(msgpackTimestampToNs(b32), BigInt(0x65e1e868) * 1_000_000_000n);
  const sec = 1709303400;
  const nsec = 123456789;
  const b64 = new Uint8Array(8);
  const v = new DataView(b64.buffer);
  v.setUint32(0, (nsec << 2) | Math.floor(sec / 2 ** 32));
  v.setUint32(4, sec >>> 0);
  assert.equal(msgpackTimestampToNs(b64), 1709303400123456789n);
  assert.equal(msgpackTimestampToNs(timestamp96(-1n, 5)), -999999995n);
});

test("a frame encoded with the library's own Timestamp decodes to exact ns", () => {
  // The library encodes a Date at ms precision; the decoder must give the same instant in ns.
  const bytes = encode(
    { t: new Date(Date.UTC(2024, 2, 1, 14, 30, 0, 123)) },
    {
      extensionCodec: new ExtensionCodec(),
    },
  );
  const out = decode(bytes, { extensionCodec: nsExtensionCodec }) as { t: bigint };
  assert.equal(out.t, 1709303400123000000n);
});
