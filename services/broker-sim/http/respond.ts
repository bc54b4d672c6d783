/**
 * respond: the request/response shapes shared by the simulator's route handlers. Handlers are
 * plain functions from a parsed request to a response value; only server.ts touches sockets.
 */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  params: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function json(status: number, body: unknown): ApiResponse {
  return { status, body };
}

export function error(status: number, code: number, message: string): ApiResponse {
  return { status, body: { code, message } };
}

export const ERR = {
  badBody: () => error(400, 40010000, "request body format is invalid"),
  notFound: () => error(404, 40410000, "endpoint not found"),
  methodNotAllowed: () => error(405, 40510000, "method not allowed"),
  unauthorized: () => error(401, 40110000, "request is not authorized"),
  tooLarge: () => error(413, 41300000, "request body too large"),
  rateLimited: () => error(429, 42910000, "rate limit exceeded"),
  internal: (status = 500) => error(status, 50010000, "internal server error"),
  invalidParam: (message: string, status = 422) => error(status, 40010001, message),
};

/**
 * queryBool reads a boolean query parameter as Alpaca's Go server does (strconv.ParseBool):
 * 1, t, T, TRUE, true, True and their false forms — Python clients send `True`/`False`.
 * undefined when absent; an error response naming the parameter when it is not a boolean.
 */
export function queryBool(
  query: URLSearchParams,
  name: string,
): { ok: true; value: boolean | undefined } | { ok: false; response: ApiResponse } {
  const text = query.get(name);
  if (text === null) return { ok: true, value: undefined };
  if (TRUE_FORMS.has(text)) return { ok: true, value: true };
  if (FALSE_FORMS.has(text)) return { ok: true, value: false };
  return { ok: false, response: ERR.invalidParam(`${name} must be true or false, got ${text}`) };
}

const TRUE_FORMS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_FORMS = new Set(["0", "f", "F", "FALSE", "false", "False"]);
