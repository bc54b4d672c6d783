import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../core/errors.ts";
import { endpointsFor, LIVE_ENDPOINTS, PAPER_ENDPOINTS } from "./config.ts";

test("paper is the default; live must be named", () => {
  assert.deepEqual(endpointsFor(), PAPER_ENDPOINTS);
  assert.equal(endpointsFor("live").tradingUrl, "https://api.alpaca.markets");
  assert.deepEqual(endpointsFor("live"), LIVE_ENDPOINTS);
});

test("single URLs can be overridden (e.g. a simulator); undefined overrides are ignored", () => {
  const e = endpointsFor("paper", { tradingUrl: "http://127.0.0.1:9000", dataUrl: undefined });
  assert.equal(e.tradingUrl, "http://127.0.0.1:9000");
  assert.equal(e.dataUrl, PAPER_ENDPOINTS.dataUrl);
});

test("a wrong URL is refused naming the key", () => {
  assert.throws(
    () => endpointsFor("paper", { tradeStreamUrl: "http://127.0.0.1:9000/stream" }),
    (err: unknown) =>
      isTradepipeError(err, "TP_ERR_CONFIG") &&
      /alpaca\.tradeStreamUrl: expected ws: or wss:/.test(err.message),
  );
  assert.throws(
    () => endpointsFor("paper", { tradingUrl: "not a url" }),
    (err: unknown) =>
      isTradepipeError(err, "TP_ERR_CONFIG") && /alpaca\.tradingUrl: not a URL/.test(err.message),
  );
});
