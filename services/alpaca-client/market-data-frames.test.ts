import assert from "node:assert/strict";
import { test } from "node:test";
import { encode } from "@msgpack/msgpack";
import { fromDecimal } from "../core/money.ts";
import type { Quote, Trade, WireRecord } from "./market-data.ts";
import { createFrameDispatcher } from "./market-data-frames.ts";

const quote = {
  T: "q",
  S: "AAPL",
  bx: "V",
  bp: 187.12,
  bs: 3,
  ax: "Q",
  ap: 187.14,
  as: 5,
  c: ["R"],
  z: "C",
};
const trade = { T: "t", S: "AAPL", i: 9, x: "V", p: 187.13, s: 100, c: ["@"], z: "C" };

function collect(codec: "json" | "msgpack") {
  const got = {
    quotes: [] as Quote[],
    trades: [] as Trade[],
    control: [] as WireRecord[],
    errors: [] as string[],
  };
  const dispatch = createFrameDispatcher(
    codec,
    {
      onQuote: (q) => got.quotes.push(q),
      onTrade: (t) => got.trades.push(t),
      onError: (e) => got.errors.push(e.message),
    },
    (m) => got.control.push(m),
  );
  return { got, dispatch };
}

test("a JSON frame dispatches each record, in order, with exact values", () => {
  const { got, dispatch } = collect("json");
  const t = "2026-03-02T14:30:00.000000001Z";
  const frame = JSON.stringify([
    { ...quote, t },
    { ...trade, t },
    { T: "subscription", quotes: ["AAPL"] },
  ]);
  dispatch(Buffer.from(frame), false);
  assert.equal(got.quotes[0]?.askPrice, fromDecimal("187.14"));
  assert.equal(got.quotes[0]?.timestampNs, 1772461800000000001n);
  assert.equal(got.trades[0]?.size, fromDecimal("100"));
  assert.deepEqual(got.control, [{ T: "subscription", quotes: ["AAPL"] }]);
  assert.deepEqual(got.errors, []);
});

test("a MessagePack frame decodes its Timestamp extension to ns", () => {
  const { got, dispatch } = collect("msgpack");
  const at = new Date(Date.UTC(2026, 2, 2, 14, 30, 0, 250));
  dispatch(
    Buffer.from(
      encode([
        { ...quote, t: at },
        { ...trade, t: at },
      ]),
    ),
    true,
  );
  assert.equal(got.quotes[0]?.timestampNs, 1772461800250000000n);
  assert.equal(got.trades[0]?.price, fromDecimal("187.13"));
});

test("bad frames and bad records are reported, and the rest of the frame still goes", () => {
  const { got, dispatch } = collect("json");
  dispatch(Buffer.from("{not json"), false);
  dispatch(Buffer.from('{"T":"q"}'), false);
  dispatch(
    Buffer.from(
      JSON.stringify([
        { ...quote, t: "not a time" },
        { ...trade, t: "2026-03-02T14:30:00Z" },
      ]),
    ),
    false,
  );
  assert.equal(got.errors.length, 3);
  assert.match(got.errors[0] ?? "", /undecodable/);
  assert.match(got.errors[1] ?? "", /not an array/);
  assert.match(got.errors[2] ?? "", /bad market-data record q/);
  assert.equal(got.trades.length, 1);
});
