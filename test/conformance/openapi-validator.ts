/**
 * openapi-validator: checks a simulator response against Alpaca's own OpenAPI documents
 * (vendored in ./openapi). It finds the operation by method and path template, picks the
 * response schema for the status (errors without a schema are checked against the spec's
 * `Error` shape {code, message}) and validates with ajv. Used by every conformance test, so no
 * REST answer the suite sees goes unchecked.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

type Json = Record<string, unknown>;

interface Operation {
  spec: "trading" | "md";
  template: string;
  regex: RegExp;
  method: string;
  responses: Json;
}

const here = new URL("./openapi/", import.meta.url);

function load(name: string): Json {
  return JSON.parse(readFileSync(new URL(name, here), "utf8")) as Json;
}

const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

export interface ValidationFailure {
  method: string;
  path: string;
  status: number;
  errors: string;
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly cache = new Map<string, ValidateFunction>();
  readonly failures: ValidationFailure[] = [];
  validated = 0;

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    const fixFormats = addFormats as unknown as (a: Ajv) => void;
    fixFormats(this.ajv);
    for (const f of ["decimal", "ulid", "int32", "int64", "uint32", "uint64", "double", "binary"]) {
      this.ajv.addFormat(f, true);
    }
    for (const [id, file] of [
      ["trading", "trading-api.json"],
      ["md", "md-api.json"],
    ] as const) {
      const doc = load(file);
      this.ajv.addSchema(doc, id);
      const paths = doc["paths"] as Record<string, Record<string, Json>>;
      for (const [template, item] of Object.entries(paths)) {
        const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
        for (const [method, op] of Object.entries(item)) {
          if (method === "parameters") continue;
          this.operations.push({
            spec: id,
            template,
            regex: new RegExp(`^${source}$`),
            method: method.toUpperCase(),
            responses: (op["responses"] ?? {}) as Json,
          });
        }
      }
    }
    // Literal paths first, so /v2/stocks/bars wins over /v2/stocks/{symbol}/bars-like templates.
    this.operations.sort((a, b) => countParams(a.template) - countParams(b.template));
  }

  private findOperation(
    method: string,
    path: string,
    host: "trading" | "md",
  ): Operation | undefined {
    return this.operations.find(
      (o) => o.spec === host && o.method === method && o.regex.test(path),
    );
  }

  private schemaFor(op: Operation, status: number): ValidateFunction | undefined {
    const key = String(status);
    const response = (op.responses[key] ?? op.responses["default"]) as Json | undefined;
    const hasContent = response && (response["content"] as Json | undefined)?.["application/json"];
    const ref = hasContent
      ? `${op.spec}#/paths/${escapePointer(op.template)}/${op.method.toLowerCase()}/responses/${key in op.responses ? key : "default"}/content/application~1json/schema`
      : status >= 400
        ? "trading#/components/schemas/Error"
        : undefined;
    if (!ref) return undefined;
    let fn = this.cache.get(ref);
    if (!fn) {
      fn = this.ajv.getSchema(ref);
      if (!fn) throw new Error(`openapi-validator: no schema at ${ref}`);
      this.cache.set(ref, fn);
    }
    return fn;
  }

  /**
   * check validates one response. `host` tells which API the request went to; returns the
   * failure (also recorded in `failures`) or undefined.
   */
  check(
    method: string,
    path: string,
    status: number,
    body: unknown,
    host: "trading" | "md",
  ): ValidationFailure | undefined {
    const fail = (errors: string): ValidationFailure => {
      const f = { method, path, status, errors };
      this.failures.push(f);
      return f;
    };
    const op = this.findOperation(method, path, host);
    if (!op) return fail("no operation in Alpaca's spec for this method and path");
    if (status === 204) {
      this.validated++;
      return body === undefined || body === "" ? undefined : fail("204 with a body");
    }
    const validate = this.schemaFor(op, status);
    if (!validate) {
      this.validated++;
      return undefined;
    }
    this.validated++;
    if (validate(body)) return undefined;
    return fail(this.ajv.errorsText(validate.errors, { separator: "; " }));
  }
}

function countParams(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

/**
 * validatingFetch returns a fetch that sends Alpaca-host requests to the simulator instead and
 * validates each JSON answer. Requests to paper-api/api.alpaca.markets go to `tradingUrl`; to
 * data.alpaca.markets go to `dataUrl`.
 */
export function validatingFetch(
  validator: OpenApiValidator,
  tradingUrl: string,
  dataUrl: string,
): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const original = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const isData = original.hostname.startsWith("data.");
    const target = new URL(original.pathname + original.search, isData ? dataUrl : tradingUrl);
    const res = await fetch(target, init);
    const text = await res.clone().text();
    let body: unknown;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    validator.check(
      (init?.method ?? "GET").toUpperCase(),
      target.pathname,
      res.status,
      body,
      isData ? "md" : "trading",
    );
    return res;
  };
}
