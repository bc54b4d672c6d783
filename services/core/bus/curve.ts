/**
 * curve: CURVE keys for the ZeroMQ bus (ZMTP CurveZMQ, RFC 26). Keys are Curve25519 (X25519)
 * pairs written as Z85 text (RFC 32), the form libzmq's socket options take. A pipeline has one
 * key pair: every stage's publisher is a CURVE server with it, every subscriber a CURVE client
 * with it, and the publisher's ZAP handler (zap.ts) lets in only clients whose public key is on
 * its allow-list. Generation uses node:crypto, so the operator can mint keys without loading
 * the ZeroMQ addon.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TradepipeError } from "../errors.ts";

/** CurveKeyPair: Z85 text, 40 characters each (32 bytes). */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/**
 * BusCurve turns CURVE on for a ZmqBus. The publisher serves with `secretKey` and admits only
 * `allowedClientKeys` (default: its own `publicKey`, i.e. holders of the pipeline's pair); the
 * subscriber authenticates with the pair and trusts only `serverKey` (default: `publicKey`).
 */
export interface BusCurve extends CurveKeyPair {
  serverKey?: string;
  allowedClientKeys?: readonly string[];
}

const Z85_ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUE = new Map([...Z85_ALPHABET].map((c, i) => [c, i]));

/** z85Encode writes bytes (a multiple of 4) as Z85 text. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError("z85: length must be a multiple of 4");
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value =
      ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    let chunk = "";
    for (let k = 0; k < 5; k++) {
      chunk = Z85_ALPHABET[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/** z85Decode reads Z85 text (a multiple of 5 characters) back into bytes. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new RangeError("z85: length must be a multiple of 5");
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const digit = Z85_VALUE.get(text[i + k]!);
      if (digit === undefined) throw new RangeError(`z85: invalid character at ${i + k}`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw new RangeError(`z85: value out of range at ${i}`);
    const o = (i / 5) * 4;
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/** generateCurveKeyPair makes a fresh X25519 pair in the Z85 form libzmq takes. */
export function generateCurveKeyPair(): CurveKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const pub = publicKey.export({ format: "jwk" }).x;
  const sec = privateKey.export({ format: "jwk" }).d;
  if (!pub || !sec) throw new Error("x25519 key export returned no key material");
  return {
    publicKey: z85Encode(Buffer.from(pub, "base64url")),
    secretKey: z85Encode(Buffer.from(sec, "base64url")),
  };
}

/** checkCurveKey fails, naming `what`, unless `key` is a 40-character Z85 key. */
export function checkCurveKey(key: string, what: string): string {
  let ok = key.length === 40;
  if (ok) {
    try {
      z85Decode(key);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new TradepipeError("TP_ERR_CONFIG", `${what}: not a CURVE key (40 Z85 characters)`);
  }
  return key;
}

/** Files of a bus key directory (the operator's Secret mounted as a volume). */
export const CURVE_FILES = {
  publicKey: "public-key",
  secretKey: "secret-key",
  allowedClientKeys: "allowed-client-keys",
} as const;

/**
 * readBusCurveDir reads `public-key` and `secret-key` (and, when present, `allowed-client-keys`:
 * one key a line) from a directory, as the operator mounts the pipeline's bus Secret.
 */
export function readBusCurveDir(dir: string): BusCurve {
  const read = (file: string) => readFileSync(join(dir, file), "utf8").trim();
  const publicKey = checkCurveKey(read(CURVE_FILES.publicKey), `${dir}/${CURVE_FILES.publicKey}`);
  const secretKey = checkCurveKey(read(CURVE_FILES.secretKey), `${dir}/${CURVE_FILES.secretKey}`);
  let allowed: string[] | undefined;
  try {
    allowed = read(CURVE_FILES.allowedClientKeys)
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .map((k, i) => checkCurveKey(k, `${dir}/${CURVE_FILES.allowedClientKeys} line ${i + 1}`));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  return { publicKey, secretKey, ...(allowed ? { allowedClientKeys: allowed } : {}) };
}
