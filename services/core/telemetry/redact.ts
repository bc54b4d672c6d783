/**
 * redact: the secrets rules of tradepipe's logs, as pure functions. Two layers: values under
 * secret-looking keys are replaced wherever they sit in a logged object, and passwords inside
 * strings (connection strings, key=value DSNs) are masked in any string field or message.
 */

export const CENSOR = "[REDACTED]";

/** SECRET_KEYS: object keys whose values never reach a log (compared case-insensitively). */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "apikey",
  "api_key",
  "secretkey",
  "secret_key",
  "apisecret",
  "password",
  "passwd",
  "pgpassword",
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "apca-api-key-id",
  "apca-api-secret-key",
  "x-api-key",
  "token",
  "accesstoken",
  "access_token",
  "refreshtoken",
  "refresh_token",
  "secret",
  "client_secret",
]);

/**
 * REDACT_PATHS: the same keys as pino redact paths (top level, one level down, and under
 * headers), a second line of defence applied at serialisation time.
 */
export const REDACT_PATHS: string[] = (() => {
  const plain = ["apiKey", "secretKey", "password", "authorization", "token", "secret"];
  const headers = [
    "authorization",
    "APCA-API-KEY-ID",
    "APCA-API-SECRET-KEY",
    "apca-api-key-id",
    "apca-api-secret-key",
    "cookie",
  ];
  const paths = [...plain, ...plain.map((k) => `*.${k}`)];
  for (const h of headers) {
    paths.push(`headers["${h}"]`, `*.headers["${h}"]`, `req.headers["${h}"]`);
  }
  return paths;
})();

// scheme://user:password@ — the password is the part between the first ':' after the user and
// the '@' that ends the userinfo.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi;
// key=value forms: "password=…", "pwd=…" in libpq DSNs and query strings.
const KV_PASSWORD = /\b(password|passwd|pwd|secret|api_?key|token)=([^\s&;,'"]+)/gi;

/** maskSecretsInString hides passwords embedded in connection strings and key=value pairs. */
export function maskSecretsInString(s: string): string {
  if (!s.includes("://") && !s.includes("=")) return s;
  return s.replace(URL_PASSWORD, "$1***@").replace(KV_PASSWORD, "$1=***");
}

function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

/**
 * redactValue returns a copy of `value` with secret keys censored and strings masked. Plain
 * objects and arrays are walked (to a bounded depth, cycles cut); other objects (Errors, Dates,
 * Buffers, class instances) are returned as they are, for their serialisers to handle.
 */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return maskSecretsInString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8 || seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => redactValue(v, depth + 1, seen));
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      isSecretKey(k) && v !== undefined && v !== null ? CENSOR : redactValue(v, depth + 1, seen);
  }
  return out;
}
