import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TradepipeError } from "../errors.ts";
import { QuoteSchema } from "../messages/index.ts";
import { InProcBus } from "./inproc.ts";
import { publishMessage, subscribeDecoded } from "./typed.ts";

test("subscribeDecoded hands decoded messages on and undecodable frames to onInvalid", () => {
  const bus = new InProcBus();
  const symbols: string[] = [];
  const invalid: Error[] = [];
  subscribeDecoded(
    bus,
    ["md.quote/*"],
    QuoteSchema,
    (q) => symbols.push(q.symbol),
    (err) => {
      invalid.push(err);
    },
  );
  publishMessage(bus, "md.quote/AAPL", QuoteSchema, create(QuoteSchema, { symbol: "AAPL" }));
  bus.publish("md.quote/MSFT", Uint8Array.of(0x12, 0x09, 0x4d)); // symbol runs past the end
  publishMessage(bus, "md.quote/X", QuoteSchema, create(QuoteSchema, { symbol: "X" }));

  assert.deepEqual(symbols, ["AAPL", "X"]);
  assert.equal(invalid.length, 1);
  assert.ok(invalid[0] instanceof TradepipeError);
  assert.equal(invalid[0].code, "TP_ERR_INVALID_MESSAGE");
  assert.match(invalid[0].message, /^topic md\.quote\/MSFT sequence \d+: not a valid /);
});
