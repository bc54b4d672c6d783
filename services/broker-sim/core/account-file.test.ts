import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDecimal } from "../../core/money.ts";
import { AccountRenderer, decodeAccount, encodeAccount, snapshotAccount } from "./account-file.ts";
import { restoreAccount, startSession } from "./account-restore.ts";
import * as b from "./broker.ts";
import { InvalidDocumentError } from "./field-reader.ts";
import * as actions from "./order-actions.ts";
import type { OrderRequest } from "./orders.ts";
import { orderRequest, twoSymbolBroker } from "./test-support.ts";

const T0 = 1_772_463_600_123_456_789n; // 2026-03-02T15:00:00.123456789Z
const OPEN: b.SessionInfo = { open: true, close: T0 + 86_400_000_000_000n };

const broker = (): b.BrokerState => twoSymbolBroker(T0, { seed: 3 });

const req = (over: Partial<OrderRequest>): OrderRequest => orderRequest("1", over);

/** busyBroker holds every kind of field: fills, a short, fractions, trailing stops, nulls. */
function busyBroker(): b.BrokerState {
  const s = broker();
  const ok = (r: b.Outcome<unknown>) =>
    assert.ok(
      r.ok,
      JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? String(v) : v)),
    );
  ok(b.submitOrder(s, req({ qty: fromDecimal("2.5"), clientOrderId: "frac" }), T0 + 1n, OPEN));
  ok(b.submitOrder(s, req({ qty: null, notional: fromDecimal("150") }), T0 + 2n, OPEN));
  ok(b.submitOrder(s, req({ symbol: "MSFT", side: "sell", qty: fromDecimal("3") }), T0 + 3n, OPEN));
  // The buy is cancelled before the trailing sell goes in: working together they would be
  // refused as a potential wash trade.
  ok(
    b.submitOrder(
      s,
      req({ type: "limit", limitPrice: fromDecimal("90"), clientOrderId: "low" }),
      T0 + 4n,
      OPEN,
    ),
  );
  const low = s.byClientId.get("low")!;
  ok(actions.cancelOrder(s, low.id, T0 + 5n));
  ok(
    b.submitOrder(
      s,
      req({
        type: "trailing_stop",
        side: "sell",
        qty: fromDecimal("1"),
        trailPercent: fromDecimal("2"),
        timeInForce: "gtc",
      }),
      T0 + 6n,
      OPEN,
    ),
  );
  return s;
}

test("an account survives encode → JSON → decode exactly", () => {
  const s = busyBroker();
  const snap = snapshotAccount(
    s,
    [
      {
        kind: "submit",
        client_order_id: "frac",
        status: 200,
        order_id: "x",
        at: "2026-03-02T15:00:00Z",
      },
    ],
    T0 + 7n,
  );
  const text = JSON.stringify(encodeAccount(snap));
  assert.deepEqual(decodeAccount(JSON.parse(text)), snap);
  assert.ok(snap.orders.length === 5 && snap.executions.length >= 3 && snap.positions.length === 2);
});

test("the renderer writes the same document, and notices a finished order changing", () => {
  const s = busyBroker();
  const requests = [
    {
      kind: "submit" as const,
      client_order_id: "frac",
      status: 200,
      order_id: "x",
      at: "2026-03-02T15:00:00Z",
    },
  ];
  // Chunks of two, so cached chunks, open orders inside them and a partial tail all occur.
  const renderer = new AccountRenderer(2);
  const same = () =>
    assert.deepEqual(
      JSON.parse(renderer.render(s, requests, T0 + 7n)),
      JSON.parse(JSON.stringify(encodeAccount(snapshotAccount(s, requests, T0 + 7n)))),
    );
  same();
  const open = s.orderLog.find((o) => o.type === "trailing_stop")!;
  assert.ok(actions.cancelOrder(s, open.id, T0 + 8n).ok);
  assert.ok(b.submitOrder(s, req({ qty: fromDecimal("1") }), T0 + 9n, OPEN).ok);
  same();
  const text = renderer.render(s, requests, T0 + 9n);
  assert.equal(
    text.split("\n").filter((l) => l.startsWith('{"id":')).length,
    s.orderLog.length,
    "one order a line",
  );
});

test("a restored broker has one object per order in every index, and trades on", () => {
  const s = busyBroker();
  const snap = decodeAccount(
    JSON.parse(JSON.stringify(encodeAccount(snapshotAccount(s, [], T0 + 7n)))),
  );
  const r = broker();
  restoreAccount(r, snap);
  assert.equal(r.ledger.cash, s.ledger.cash);
  assert.deepEqual([...r.ledger.positions.values()], [...s.ledger.positions.values()]);
  const trailing = r.orderLog.find((o) => o.type === "trailing_stop")!;
  assert.equal(r.orders.get(trailing.id), trailing);
  assert.equal(r.byClientId.get(trailing.clientOrderId), trailing);
  assert.ok(r.openBySymbol.get("AAPL")?.has(trailing));
  assert.ok(actions.cancelOrder(r, trailing.id, T0 + 8n).ok);
  assert.equal(r.openBySymbol.get("AAPL")?.has(trailing), false);
  // The id stream continues where the first broker's stopped: the same next ids (the original
  // cancels its trailing sell too, or the buy below would be a potential wash trade).
  assert.ok(actions.cancelOrder(s, trailing.id, T0 + 8n).ok);
  const next = (x: b.BrokerState) => {
    const o = b.submitOrder(x, req({ qty: fromDecimal("1") }), T0 + 9n, OPEN);
    assert.ok(o.ok);
    return [o.value.id, o.value.clientOrderId];
  };
  assert.deepEqual(next(r), next(s));
});

test("startSession expires day orders of an earlier session and GTC orders past their lifetime", () => {
  const s = broker();
  const day = b.submitOrder(s, req({ type: "limit", limitPrice: fromDecimal("90") }), T0, OPEN);
  const gtc = b.submitOrder(
    s,
    req({ type: "limit", limitPrice: fromDecimal("90"), timeInForce: "gtc" }),
    T0,
    OPEN,
  );
  assert.ok(day.ok && gtc.ok);
  // Market hours: a restart within the session keeps the day order.
  assert.equal(startSession(s, T0 + 1_000n, { everyRunIsASession: false }).length, 0);
  // After its close it expires; the GTC order lives on until its 90 days are over.
  const afterClose = OPEN.close + 1n;
  const expired = startSession(s, afterClose, { everyRunIsASession: false });
  assert.deepEqual(
    expired.map((u) => [u.event, u.order.id, u.order.expiredAt]),
    [["expired", day.value.id, afterClose]],
  );
  assert.equal(s.orders.get(gtc.value.id)?.status, "new");
  const ninetyDaysOn = s.orders.get(gtc.value.id)!.expiresAt;
  assert.equal(startSession(s, ninetyDaysOn, { everyRunIsASession: false }).length, 1);
  // With the market always open, a run is the session: a day order never outlives it.
  const t = broker();
  assert.ok(b.submitOrder(t, req({ type: "limit", limitPrice: fromDecimal("90") }), T0, OPEN).ok);
  assert.equal(startSession(t, T0 + 1n, { everyRunIsASession: true }).length, 1);
});

test("contradictory documents are refused with the field that is wrong", () => {
  const good = encodeAccount(snapshotAccount(busyBroker(), [], T0 + 7n)) as Record<
    string,
    unknown
  > & {
    orders: Record<string, unknown>[];
    executions: Record<string, unknown>[];
    positions: Record<string, unknown>[];
  };
  const cases: [string, unknown, RegExp][] = [
    ["an array", [], /the document must be a JSON object, not an array/],
    [
      "a repeated client_order_id",
      {
        ...good,
        orders: [
          good.orders[0],
          { ...good.orders[1], clientOrderId: good.orders[0]!.clientOrderId },
        ],
      },
      /orders\[1\]\.clientOrderId: same client_order_id as orders\[0\]/,
    ],
    ["a fill of no order", { ...good, orders: [] }, /executions\[0\]\.orderId: no order with id /],
    [
      "a zero position",
      { ...good, positions: [{ ...good.positions[0], qty: "0" }] },
      /positions\[0\]\.qty: a position cannot be 0/,
    ],
    [
      "an unknown status",
      { ...good, orders: [{ ...good.orders[0], status: "lost" }] },
      /orders\[0\]\.status: expected one of new, .*found "lost"/,
    ],
    [
      "a bad time",
      { ...good, savedAt: "yesterday" },
      /savedAt: "yesterday" is not an RFC-3339 time/,
    ],
    [
      "a short prng",
      { ...good, prng: { words: [1, 2, 3], spare: null } },
      /prng\.words: expected 4 numbers/,
    ],
  ];
  for (const [what, doc, problem] of cases) {
    assert.throws(
      () => decodeAccount(doc),
      (e: unknown) => {
        assert.ok(e instanceof InvalidDocumentError, what);
        assert.match(e.message, problem, what);
        return true;
      },
    );
  }
});
