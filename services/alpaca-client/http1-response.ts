/**
 * Http1ResponseParser reads HTTP/1.1 responses from a byte stream, for the dedicated order
 * connection (order-connection.ts). It is strict on purpose: anything it does not fully
 * understand is an error, and the caller drops the connection (the order in flight is then
 * ambiguous and resolved by client_order_id), because a misread framing would attribute the
 * wrong answer to the next order.
 *
 * What it accepts: a status line `HTTP/1.x NNN reason`, header lines `name: value` (no folded
 * lines), a body framed by Content-Length or by `Transfer-Encoding: chunked` (chunk extensions
 * and trailers read and ignored), no body for 1xx, 204 and 304. Interim 1xx answers are skipped.
 * Refused: a body with neither length nor chunked framing (read-until-close would leave no way
 * to tell the next answer apart), both framings at once or two different lengths (the request
 * smuggling shapes), any other transfer coding, headers over `maxHeaderBytes`, a body over
 * `maxBodyBytes`.
 */
import { TradepipeError } from "../core/errors.ts";

/** Http1Response is one complete answer; header names are lower case. */
export interface Http1Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** keepAlive is false when the server said `Connection: close` (or spoke HTTP/1.0). */
  keepAlive: boolean;
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/;

type Phase = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers";

export interface Http1ParserLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_PARSER_LIMITS: Http1ParserLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1024 * 1024,
};

export class Http1ResponseParser {
  readonly #limits: Http1ParserLimits;
  #pending: Buffer = Buffer.alloc(0);
  #phase: Phase = "head";
  #status = 0;
  #headers = new Map<string, string>();
  #keepAlive = true;
  #remaining = 0;
  #bodyParts: Buffer[] = [];
  #bodySize = 0;

  constructor(limits: Http1ParserLimits = DEFAULT_PARSER_LIMITS) {
    this.#limits = limits;
  }

  /** idle: no partial answer is buffered (the bytes seen so far were whole answers). */
  get idle(): boolean {
    return this.#phase === "head" && this.#pending.length === 0;
  }

  /**
   * feed takes the next bytes and returns the answers they complete, in order (none, one, or
   * several when answers arrive coalesced). Throws TP_ERR_BROKER_PROTOCOL on malformed input;
   * the parser must not be used after that.
   */
  feed(chunk: Buffer): Http1Response[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const done: Http1Response[] = [];
    for (;;) {
      const before = this.#pending.length;
      const phase = this.#phase;
      const finished = this.#step();
      if (finished !== undefined) done.push(finished);
      if (this.#pending.length === before && this.#phase === phase && finished === undefined) {
        return done; // needs more bytes
      }
    }
  }

  /** reset drops any partial answer (after the connection it came from was dropped). */
  reset(): void {
    this.#pending = Buffer.alloc(0);
    this.#phase = "head";
    this.#startResponse();
  }

  #step(): Http1Response | undefined {
    switch (this.#phase) {
      case "head":
        return this.#readHead();
      case "length": {
        const take = Math.min(this.#remaining, this.#pending.length);
        if (take === 0 && this.#remaining > 0) return undefined;
        this.#addBody(this.#pending.subarray(0, take));
        this.#consume(take);
        this.#remaining -= take;
        return this.#remaining === 0 ? this.#finish() : undefined;
      }
      case "chunk-size": {
        const line = this.#line(this.#limits.maxHeaderBytes, "chunk size line");
        if (line === undefined) return undefined;
        const m = CHUNK_SIZE.exec(line);
        if (m === null) throw protocolError(`bad chunk size line ${JSON.stringify(line)}`);
        this.#remaining = Number.parseInt(m[1] as string, 16);
        this.#phase = this.#remaining === 0 ? "trailers" : "chunk-data";
        return undefined;
      }
      case "chunk-data": {
        const take = Math.min(this.#remaining, this.#pending.length);
        if (take === 0) return undefined;
        this.#addBody(this.#pending.subarray(0, take));
        this.#consume(take);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#phase = "chunk-end";
        return undefined;
      }
      case "chunk-end": {
        if (this.#pending.length < 2) return undefined;
        if (this.#pending[0] !== 13 || this.#pending[1] !== 10) {
          throw protocolError("chunk data not followed by CRLF");
        }
        this.#consume(2);
        this.#phase = "chunk-size";
        return undefined;
      }
      case "trailers": {
        const line = this.#line(this.#limits.maxHeaderBytes, "trailer");
        if (line === undefined) return undefined;
        if (line.length > 0) {
          if (!HEADER_LINE.test(line)) throw protocolError(`bad trailer ${JSON.stringify(line)}`);
          return undefined;
        }
        return this.#finish();
      }
    }
  }

  #readHead(): Http1Response | undefined {
    const end = this.#pending.indexOf(HEAD_END);
    if (end < 0) {
      if (this.#pending.length > this.#limits.maxHeaderBytes) {
        throw protocolError(`response head over ${this.#limits.maxHeaderBytes} bytes`);
      }
      return undefined;
    }
    if (end > this.#limits.maxHeaderBytes) {
      throw protocolError(`response head over ${this.#limits.maxHeaderBytes} bytes`);
    }
    const lines = this.#pending.toString("latin1", 0, end).split("\r\n");
    this.#consume(end + 4);
    const statusLine = STATUS_LINE.exec(lines[0] as string);
    if (statusLine === null) throw protocolError(`bad status line ${JSON.stringify(lines[0])}`);
    this.#status = Number(statusLine[2]);
    let keepAlive = statusLine[1] === "1";
    const headers = this.#headers;
    let contentLength: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const m = HEADER_LINE.exec(lines[i] as string);
      if (m === null) throw protocolError(`bad header line ${JSON.stringify(lines[i])}`);
      const name = (m[1] as string).toLowerCase();
      const value = m[2] as string;
      if (name === "content-length") {
        if (contentLength !== undefined && contentLength !== value) {
          throw protocolError("two different Content-Length headers");
        }
        contentLength = value;
      }
      if (name === "connection") {
        const tokens = value.toLowerCase().split(/\s*,\s*/);
        if (tokens.includes("close")) keepAlive = false;
        else if (tokens.includes("keep-alive")) keepAlive = true;
      }
      const prior = headers.get(name);
      headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
    }
    this.#keepAlive = keepAlive;
    if (this.#status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): no body; the real one follows.
      this.#startResponse();
      return undefined;
    }
    const coding = headers.get("transfer-encoding");
    if (coding !== undefined) {
      if (contentLength !== undefined) {
        throw protocolError("both Transfer-Encoding and Content-Length");
      }
      if (coding.toLowerCase() !== "chunked") {
        throw protocolError(`unsupported Transfer-Encoding ${JSON.stringify(coding)}`);
      }
      this.#phase = "chunk-size";
      return undefined;
    }
    if (this.#status === 204 || this.#status === 304) return this.#finish();
    if (contentLength === undefined) {
      throw protocolError(`HTTP ${this.#status} without Content-Length or chunked framing`);
    }
    if (!/^\d{1,12}$/.test(contentLength)) {
      throw protocolError(`bad Content-Length ${JSON.stringify(contentLength)}`);
    }
    this.#remaining = Number(contentLength);
    if (this.#remaining > this.#limits.maxBodyBytes) {
      throw protocolError(`response body over ${this.#limits.maxBodyBytes} bytes`);
    }
    if (this.#remaining === 0) return this.#finish();
    this.#phase = "length";
    return undefined;
  }

  /** #line takes one CRLF-terminated line, or undefined when it has not fully arrived. */
  #line(max: number, what: string): string | undefined {
    const end = this.#pending.indexOf(CRLF);
    if (end < 0) {
      if (this.#pending.length > max) throw protocolError(`${what} over ${max} bytes`);
      return undefined;
    }
    const line = this.#pending.toString("latin1", 0, end);
    this.#consume(end + 2);
    return line;
  }

  #addBody(part: Buffer): void {
    if (part.length === 0) return;
    this.#bodySize += part.length;
    if (this.#bodySize > this.#limits.maxBodyBytes) {
      throw protocolError(`response body over ${this.#limits.maxBodyBytes} bytes`);
    }
    // A copy: the chunk's memory belongs to the socket's buffer, reused or not, and small.
    this.#bodyParts.push(Buffer.from(part));
  }

  #consume(n: number): void {
    this.#pending = n >= this.#pending.length ? Buffer.alloc(0) : this.#pending.subarray(n);
  }

  #finish(): Http1Response {
    const parts = this.#bodyParts;
    const body =
      parts.length === 0 ? Buffer.alloc(0) : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const response: Http1Response = {
      status: this.#status,
      headers: this.#headers,
      body,
      keepAlive: this.#keepAlive,
    };
    this.#phase = "head";
    this.#startResponse();
    return response;
  }

  #startResponse(): void {
    this.#status = 0;
    this.#headers = new Map();
    this.#keepAlive = true;
    this.#remaining = 0;
    this.#bodyParts = [];
    this.#bodySize = 0;
  }
}

function protocolError(message: string): TradepipeError {
  return new TradepipeError("TP_ERR_BROKER_PROTOCOL", `order connection: ${message}`);
}
