import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../core/errors.ts";
import { type Http1Response, Http1ResponseParser } from "./http1-response.ts";

const ORDER_JSON = '{"id":"o-1","client_order_id":"tp-1","status":"accepted"}';
const LENGTH_ANSWER =
  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nX-RateLimit-Remaining: 199\r\n" +
  `content-length: ${ORDER_JSON.length}\r\n\r\n${ORDER_JSON}`;
const CHUNKED_ANSWER =
  "HTTP/1.1 422 Unprocessable Entity\r\ntransfer-encoding: chunked\r\n\r\n" +
  "1a;ext=1\r\n" +
  '{"code":40010001,"message"' +
  "\r\n" +
  "22\r\n" +
  ':"client_order_id must be unique"}\r\n' +
  "0\r\nx-trailer: yes\r\n\r\n";

/** feedInPieces splits `text` at every `step` bytes and feeds the pieces one by one. */
function feedInPieces(text: string, step: number): Http1Response[] {
  const parser = new Http1ResponseParser();
  const bytes = Buffer.from(text, "latin1");
  const out: Http1Response[] = [];
  for (let i = 0; i < bytes.length; i += step) {
    out.push(...parser.feed(bytes.subarray(i, i + step)));
  }
  assert.ok(parser.idle, "nothing left over");
  return out;
}

test("a Content-Length answer split at every byte boundary reads the same", () => {
  for (const step of [1, 2, 3, 7, 16, 64, 4096]) {
    const [r, ...rest] = feedInPieces(LENGTH_ANSWER, step);
    assert.equal(rest.length, 0);
    assert.equal(r?.status, 200);
    assert.equal(r?.headers.get("x-ratelimit-remaining"), "199");
    assert.equal(r?.body.toString(), ORDER_JSON);
    assert.equal(r?.keepAlive, true);
  }
});

test("a chunked answer (extensions, trailers) split at every boundary reads the same", () => {
  for (const step of [1, 2, 5, 11, 4096]) {
    const [r, ...rest] = feedInPieces(CHUNKED_ANSWER, step);
    assert.equal(rest.length, 0);
    assert.equal(r?.status, 422);
    assert.deepEqual(JSON.parse(r?.body.toString() ?? ""), {
      code: 40010001,
      message: "client_order_id must be unique",
    });
  }
});

test("coalesced answers in one chunk come out in order; an interim 100 is skipped", () => {
  const text =
    LENGTH_ANSWER +
    "HTTP/1.1 100 Continue\r\n\r\n" +
    CHUNKED_ANSWER +
    "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";
  for (const step of [text.length, 9]) {
    const rs = feedInPieces(text, step);
    assert.deepEqual(
      rs.map((r) => r.status),
      [200, 422, 204],
    );
    assert.equal(rs[2]?.keepAlive, false);
    assert.equal(rs[2]?.body.length, 0);
  }
});

test("a partial answer is held until the rest arrives", () => {
  const parser = new Http1ResponseParser();
  const bytes = Buffer.from(LENGTH_ANSWER);
  assert.deepEqual(parser.feed(bytes.subarray(0, bytes.length - 1)), []);
  assert.equal(parser.idle, false);
  assert.equal(parser.feed(bytes.subarray(bytes.length - 1)).length, 1);
  assert.equal(parser.idle, true);
});

test("malformed or ambiguous framing is refused with TP_ERR_BROKER_PROTOCOL naming the fault", () => {
  const cases: Array<[string, RegExp]> = [
    ["garbage\r\n\r\n", /bad status line/],
    ["HTTP/1.1 200 OK\r\n folded: no\r\n\r\n", /bad header line/],
    ["HTTP/1.1 200 OK\r\ncontent-type: x\r\n\r\n", /without Content-Length or chunked/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n", /two different/],
    [
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n",
      /both Transfer-Encoding and Content-Length/,
    ],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n", /unsupported Transfer-Encoding/],
    ["HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", /bad Content-Length/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", /bad chunk size/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nabc", /not followed by CRLF/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 2000000\r\n\r\n", /body over/],
    [`HTTP/1.1 200 OK\r\nx: ${"a".repeat(20_000)}`, /head over/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => new Http1ResponseParser().feed(Buffer.from(text, "latin1")),
      (err: unknown) => isTradepipeError(err, "TP_ERR_BROKER_PROTOCOL") && why.test(err.message),
      text.slice(0, 60),
    );
  }
});
