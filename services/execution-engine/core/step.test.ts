import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../../core/errors.ts";
import { restoreExecutionState } from "./state.ts";
import { marketableLimit, stepExecution } from "./step.ts";
import {
  approval,
  d,
  engine,
  ofType,
  SECOND,
  SPEC_EXECUTION,
  sentOrder,
  snapshot,
  T0,
  tradeUpdate,
  updates,
} from "./test-support.ts";
import { type Order, rejectOrigin } from "./types.ts";

test("an approved order is audited (intent, then send) before the SendOrder command", () => {
  const s = engine();
  const cmds = stepExecution(s, approval("sig-1"));
  assert.deepEqual(
    cmds.map((c) =>
      c.type === "WriteAudit" ? `audit:${c.record.event}:${c.record.toStatus}` : c.type,
    ),
    ["audit:intent:Created", "audit:marketable_limit:Created", "audit:send:Submitted", "SendOrder"],
  );
  const send = ofType(cmds, "SendOrder")[0]!;
  assert.equal(send.attempt, 1);
  assert.equal(send.request.qty, d(10));
  assert.equal(s.orders.get(send.request.clientOrderId)?.status, "Submitted");
});

test("the order moves New → PartiallyFilled → Filled from trade updates", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  assert.equal(s.orders.get(id)?.status, "New");
  const p = updates(
    stepExecution(s, tradeUpdate(id, "partial_fill", "partially_filled", 4, "100.1")),
  );
  assert.equal(p[0]?.status, "PartiallyFilled");
  assert.equal(p[0]?.fillQty, d(4));
  assert.equal(p[0]?.fillPrice, d("100.1"));
  const f = updates(stepExecution(s, tradeUpdate(id, "fill", "filled", 10, "100.16")));
  assert.equal(f[0]?.status, "Filled");
  assert.equal(f[0]?.fillQty, d(6));
  assert.equal(f[0]?.fillPrice, d("100.2"), "(10·100.16 − 4·100.1) / 6");
  assert.equal(f[0]?.terminal, true);
  assert.equal(s.orders.has(id), false);
  assert.equal(s.finished.get(id)?.status, "Filled");
});

test("duplicate and reordered trade updates never double-count fills", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const fills: bigint[] = [];
  const take = (e: ReturnType<typeof tradeUpdate>) => {
    const cmds = stepExecution(s, e);
    for (const u of updates(cmds)) fills.push(u.fillQty);
    return cmds;
  };
  take(tradeUpdate(id, "fill", "filled", 10, "100")); // final fill arrives first
  const late = take(tradeUpdate(id, "partial_fill", "partially_filled", 4, "100"));
  take(tradeUpdate(id, "fill", "filled", 10, "100")); // duplicate
  take(tradeUpdate(id, "new", "new")); // very late
  assert.equal(
    fills.reduce((a, b) => a + b, 0n),
    d(10),
  );
  assert.equal(ofType(late, "ReportAnomaly").length, 0, "a stale update is not an error");
  const audits = ofType(late, "WriteAudit");
  assert.equal(audits.length, 1, "a stale update is still audited");
  assert.equal(audits[0]!.record.detail["effect"], "stale");
  assert.equal(s.finished.get(id)?.status, "Filled");
});

test("an invalid transition is refused, reported and audited; the order keeps its status", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  stepExecution(s, tradeUpdate(id, "fill", "filled", 10, "100"));
  const cmds = stepExecution(s, tradeUpdate(id, "canceled", "canceled", 10, "100"));
  const anomaly = ofType(cmds, "ReportAnomaly")[0];
  assert.equal(anomaly?.kind, "transition_refused");
  assert.match(anomaly!.message, /Filled → Cancelled is not allowed/);
  assert.equal(ofType(cmds, "WriteAudit")[0]?.record.event, "transition_refused");
  assert.equal(s.finished.get(id)?.status, "Filled");
});

test("a fill reported after a cancel is still counted (fills are facts); the move is refused", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  stepExecution(s, tradeUpdate(id, "canceled", "canceled", 0));
  const cmds = stepExecution(s, tradeUpdate(id, "fill", "filled", 3, "100"));
  assert.equal(updates(cmds)[0]?.fillQty, d(3));
  assert.equal(ofType(cmds, "ReportAnomaly")[0]?.kind, "transition_refused");
});

test("retries: 1 s, 2 s, 4 s after each failure, same client_order_id, then given up", () => {
  const s = engine();
  const first = stepExecution(s, approval("sig-1"));
  const id = ofType(first, "SendOrder")[0]!.request.clientOrderId;
  let now = T0;
  const sends = [ofType(first, "SendOrder")[0]!];
  const delays: bigint[] = [];
  for (let i = 0; i < 4; i++) {
    const failed = stepExecution(s, {
      type: "SendFailed",
      timeNs: now,
      clientOrderId: id,
      failure: "retryable",
      httpStatus: 429,
      message: "too many requests",
    });
    const retry = ofType(failed, "ScheduleRetry")[0];
    if (i === 3) {
      assert.equal(retry, undefined);
      const u = updates(failed)[0];
      assert.equal(u?.status, "Rejected");
      assert.equal(u?.reason, "retries_exhausted");
      break;
    }
    assert.ok(retry);
    delays.push(retry.atNs - now);
    now = retry.atNs;
    const due = stepExecution(s, { type: "RetryDue", timeNs: now, clientOrderId: id });
    assert.equal(due.at(-1)?.type, "SendOrder");
    assert.equal(due.at(-2)?.type, "WriteAudit", "each resend is audited first");
    sends.push(ofType(due, "SendOrder")[0]!);
  }
  assert.deepEqual(delays, [1n * SECOND, 2n * SECOND, 4n * SECOND]);
  assert.deepEqual(
    sends.map((c) => c.attempt),
    [1, 2, 3, 4],
  );
  assert.ok(sends.every((c) => c.request.clientOrderId === id));
});

test("after an ambiguous failure the order is resolved by client_order_id before any resend", () => {
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  const fail = stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "ambiguous",
    httpStatus: null,
    message: "timeout",
  });
  assert.deepEqual(ofType(fail, "ResolveOrder"), [{ type: "ResolveOrder", clientOrderId: id }]);
  assert.equal(ofType(fail, "ScheduleRetry").length + ofType(fail, "SendOrder").length, 0);
  // it had arrived: no resend, the order is New
  const found = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: id,
    order: snapshot("new"),
  });
  assert.equal(ofType(found, "SendOrder").length + ofType(found, "ScheduleRetry").length, 0);
  assert.equal(s.orders.get(id)?.status, "New");
});

test("an ambiguous failure whose order is not at the broker is retried; a duplicate id is resolved", () => {
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "ambiguous",
    httpStatus: 502,
    message: "bad gateway",
  });
  const none = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: id,
    order: null,
  });
  assert.equal(ofType(none, "ScheduleRetry")[0]?.atNs, T0 + SECOND);
  const resend = stepExecution(s, { type: "RetryDue", timeNs: T0 + SECOND, clientOrderId: id });
  assert.equal(ofType(resend, "SendOrder")[0]?.request.clientOrderId, id);
  const dup = stepExecution(s, {
    type: "SendFailed",
    timeNs: T0 + SECOND,
    clientOrderId: id,
    failure: "duplicate",
    httpStatus: 422,
    message: "client_order_id must be unique",
  });
  assert.equal(ofType(dup, "ResolveOrder").length, 1);
});

test("a definite broker rejection ends the order and is published for the risk-manager", () => {
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  const cmds = stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "rejected",
    httpStatus: 403,
    message: "insufficient buying power",
  });
  const u = updates(cmds)[0];
  assert.equal(u?.status, "Rejected");
  assert.equal(u?.terminal, true);
  assert.equal(u?.reason, "insufficient buying power");
});

test("an order the shell never sent (leadership deadline) is the engine's refusal, not a broker failure", () => {
  // Regression: published with the broker's origin, five of these in a minute (a database
  // outage of a few seconds under order flow) opened the risk-manager's circuit breaker, and no
  // order went out for its 300 s cooldown after the database was back.
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  const cmds = stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "not_sent",
    httpStatus: null,
    message: "leadership_deadline",
  });
  const u = updates(cmds)[0];
  assert.equal(u?.status, "Rejected");
  assert.equal(u?.terminal, true);
  assert.equal(u?.reason, "leadership_deadline");
  assert.equal(rejectOrigin(u!.reason), "engine", "not a broker failure for the breaker");
});

test("180 orders/min holds over any 60 s window; orders beyond it wait, none is refused", () => {
  const s = engine();
  const sentAt: bigint[] = [];
  const due = new Map<bigint, string[]>();
  const take = (cmds: ReturnType<typeof stepExecution>, t: bigint) => {
    for (const _ of ofType(cmds, "SendOrder")) sentAt.push(t);
    for (const c of ofType(cmds, "ScheduleRetry")) {
      const list = due.get(c.atNs) ?? [];
      list.push(c.clientOrderId);
      due.set(c.atNs, list);
    }
    assert.equal(updates(cmds).filter((u) => u.status === "Rejected").length, 0);
  };
  let n = 0;
  // offer an order every 50 ms for 3 minutes, and step the queued ones when they are due
  for (let t = T0; t < T0 + 180n * SECOND; t += SECOND / 20n) {
    for (const [at, ids] of [...due].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (at > t) break;
      due.delete(at);
      for (const id of ids)
        take(stepExecution(s, { type: "RetryDue", timeNs: at, clientOrderId: id }), at);
    }
    stepExecution(s, { type: "TradeReceived", timeNs: t, symbol: "XOM", price: d(100) });
    take(stepExecution(s, approval(`sig-${n++}`, 1, 100, "buy", t)), t);
  }
  let worst = 0;
  for (let i = 0; i < sentAt.length; i++) {
    let j = i;
    while (j < sentAt.length && sentAt[j]! < sentAt[i]! + 60n * SECOND) j++;
    worst = Math.max(worst, j - i);
  }
  assert.equal(worst, 180, `the busiest 60 s window held ${worst} sends`);
  assert.ok(due.size > 0, "the orders beyond the ceiling are queued, not refused");
});

test("lookups and cancels count against the same per-minute window as orders", () => {
  const s = engine({ maxOrdersPerMinute: 5 });
  const id = ofType(stepExecution(s, approval("a")), "SendOrder")[0]!.request.clientOrderId; // 1
  stepExecution(s, { type: "BrokerCallsMade", timeNs: T0, count: 2 }); // e.g. listing open orders
  stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "ambiguous",
    httpStatus: 504,
    message: "timeout",
  }); // a lookup: 4 calls
  assert.equal(ofType(stepExecution(s, approval("b")), "SendOrder").length, 1, "the 5th call");
  const queued = stepExecution(s, approval("c"));
  assert.equal(ofType(queued, "SendOrder").length, 0);
  assert.equal(ofType(queued, "ScheduleRetry")[0]?.atNs, T0 + 60n * SECOND);
});

test("slippage guard: the same-side price 50 bps worse passes, beyond is refused; no price refuses", () => {
  const s = engine(); // last trade 100, no quote yet: the trade stands in
  // bps are measured from the decision price: 100 is 50 bps above 99.50248756...
  assert.equal(ofType(stepExecution(s, approval("a", 1, "99.51")), "SendOrder").length, 1);
  const sells = engine(); // a sell beside the working buy would be held (see below)
  assert.equal(
    ofType(stepExecution(sells, approval("b", 1, "100.5", "sell")), "SendOrder").length,
    1,
  );
  const over = updates(stepExecution(s, approval("c", 1, "99.49")))[0];
  assert.equal(over?.reason, "slippage");
  assert.equal(over?.status, "Rejected");
  const noPrice = stepExecution(s, { ...approval("e", 1, 10), symbol: "ZZZ" });
  assert.equal(updates(noPrice)[0]?.reason, "no_last_price");
});

test("slippage is compared with the same-side quote: a buy with the ask 100 bps away is refused", () => {
  const s = engine();
  // Mid 100 = the decision price, but a buy fills at the ask (101) and a sell at the bid (99).
  stepExecution(s, { type: "QuoteReceived", timeNs: T0, symbol: "XOM", bid: d(99), ask: d(101) });
  const buy = updates(stepExecution(s, approval("buy", 1, 100, "buy")))[0];
  assert.equal(buy?.reason, "slippage");
  assert.match(buy?.status ?? "", /Rejected/);
  const sell = updates(stepExecution(s, approval("sell", 1, 100, "sell")))[0];
  assert.equal(sell?.reason, "slippage");
  // A price that moved in the order's favour is no slippage.
  assert.equal(ofType(stepExecution(s, approval("cheap", 1, 102, "buy")), "SendOrder").length, 1);
});

test("a market order is sent as a marketable limit at the decision price ± the allowed bps", () => {
  const s = engine();
  const buy = ofType(stepExecution(s, approval("b", 1, 100, "buy")), "SendOrder")[0]!.request;
  assert.deepEqual([buy.orderType, buy.limitPrice], ["limit", d("100.5")]);
  const sell = ofType(stepExecution(engine(), approval("s", 1, 100, "sell")), "SendOrder")[0]!
    .request;
  assert.deepEqual([sell.orderType, sell.limitPrice], ["limit", d("99.5")]);
  // Rounded inward to the tick: a cent at $1 and above, $0.0001 below.
  assert.equal(marketableLimit("buy", d("123.4567"), d(50)), d("124.07"));
  assert.equal(marketableLimit("sell", d("123.4567"), d(50)), d("122.84"));
  assert.equal(marketableLimit("buy", d("0.5"), d(50)), d("0.5025"));
});

test("an order opposite a working order is held until that order ends, never sent beside it", () => {
  const s = engine();
  const sell = ofType(stepExecution(s, approval("sell", 10, 100, "sell")), "SendOrder")[0]!;
  const id = sell.request.clientOrderId;
  stepExecution(s, {
    type: "SendSucceeded",
    timeNs: T0,
    clientOrderId: id,
    order: snapshot("new"),
  });
  const held = stepExecution(s, approval("buy", 5, 100, "buy"));
  assert.equal(ofType(held, "SendOrder").length, 0, "not sent while the sell works");
  assert.equal(updates(held).length, 0, "not refused either");
  const audit = ofType(held, "WriteAudit").map((c) => c.record);
  assert.equal(audit.at(-1)?.event, "held_for_opposite");
  assert.equal(audit.at(-1)?.detail["blockedBy"], id);
  // The sell fills: the buy goes out in the same step.
  const filled = stepExecution(s, tradeUpdate(id, "fill", "filled", 10, 100, T0 + SECOND));
  const released = ofType(filled, "SendOrder");
  assert.equal(released.length, 1);
  assert.equal(released[0]!.request.side, "buy");
  const buyId = released[0]!.request.clientOrderId;
  stepExecution(s, tradeUpdate(buyId, "fill", "filled", 5, 100, T0 + 2n * SECOND));
  assert.deepEqual([s.sides.get("XOM"), s.held], [{ buy: 0, sell: 0 }, 0], "the books balance");
});

test("the kill switch cancels a held order locally: it never reached the broker", () => {
  const s = engine();
  stepExecution(s, approval("sell", 10, 100, "sell"));
  stepExecution(s, approval("buy", 5, 100, "buy"));
  assert.equal(s.held, 1);
  const cmds = stepExecution(s, { type: "KillSwitchChanged", timeNs: T0, engaged: true });
  const cancelled = updates(cmds).filter((u) => u.status === "Cancelled");
  assert.deepEqual(
    cancelled.map((u) => u.side),
    ["buy"],
    "the held buy ends here; the sent sell is cancelled at the broker",
  );
  assert.equal(ofType(cmds, "CancelOrder").length, 1);
  assert.deepEqual([s.sides.get("XOM"), s.held], [{ buy: 0, sell: 1 }, 0]);
});

test("an order held behind an opposite order that never ends is refused by the engine", () => {
  const s = engine({ oppositeOrderWaitSeconds: 30 });
  const sell = ofType(stepExecution(s, approval("sell", 10, 100, "sell")), "SendOrder")[0]!;
  const held = stepExecution(s, approval("buy", 5, 100, "buy"));
  const timer = ofType(held, "ScheduleRetry")[0]!;
  assert.equal(timer.atNs, T0 + 30n * SECOND);
  const due = stepExecution(s, {
    type: "RetryDue",
    timeNs: timer.atNs,
    clientOrderId: timer.clientOrderId,
  });
  const u = updates(due)[0];
  assert.equal(u?.status, "Rejected");
  assert.equal(u?.reason, "opposite_working_order");
  assert.match(u?.reason ?? "", /opposite/);
  assert.equal(rejectOrigin(u!.reason), "engine", "not a broker failure for the breaker");
  assert.ok(s.orders.has(sell.request.clientOrderId), "the working sell is untouched");
});

test("a fill far from the decision price is reported", () => {
  const s = engine();
  const id = sentOrder(s, "sig-1");
  const cmds = stepExecution(s, tradeUpdate(id, "fill", "filled", 10, "101"));
  assert.equal(ofType(cmds, "ReportAnomaly")[0]?.kind, "fill_slippage");
});

test("kill switch: open orders are cancelled, pending retries end, new orders are refused", () => {
  const s = engine();
  const live = sentOrder(s, "live");
  const partial = sentOrder(s, "partial");
  stepExecution(s, tradeUpdate(partial, "partial_fill", "partially_filled", 2, "100"));
  const waiting = ofType(stepExecution(s, approval("waiting")), "SendOrder")[0]!.request
    .clientOrderId;
  stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: waiting,
    failure: "retryable",
    httpStatus: 429,
    message: "slow down",
  });
  const done = sentOrder(s, "done");
  stepExecution(s, tradeUpdate(done, "fill", "filled", 10, "100"));

  const cmds = stepExecution(s, { type: "KillSwitchChanged", timeNs: T0 + SECOND, engaged: true });
  assert.deepEqual(
    ofType(cmds, "CancelOrder")
      .map((c) => c.clientOrderId)
      .sort(),
    [live, partial].sort(),
  );
  assert.equal(s.finished.get(waiting)?.status, "Cancelled");
  assert.equal(
    stepExecution(s, { type: "RetryDue", timeNs: T0 + SECOND, clientOrderId: waiting }).length,
    0,
  );
  const refused = updates(stepExecution(s, approval("after", 1, 100, "buy", T0 + 2n * SECOND)))[0];
  assert.equal(refused?.reason, "kill_switch");
  assert.equal(
    ofType(
      stepExecution(s, { type: "KillSwitchChanged", timeNs: T0 + 3n * SECOND, engaged: true }),
      "CancelOrder",
    ).length,
    0,
    "asked once",
  );
});

test("every event about an order leaves an audit record carrying its correlation id", () => {
  const s = engine();
  const cmds = [...stepExecution(s, approval("sig-9"))];
  const id = ofType(cmds, "SendOrder")[0]!.request.clientOrderId;
  const events = [
    { type: "SendSucceeded", timeNs: T0, clientOrderId: id, order: snapshot("accepted") },
    tradeUpdate(id, "new", "new"),
    tradeUpdate(id, "new", "new"),
    tradeUpdate(id, "partial_fill", "partially_filled", 5, "100"),
    tradeUpdate(id, "fill", "filled", 10, "100"),
  ] as const;
  for (const e of events) {
    const out = stepExecution(s, e);
    assert.ok(ofType(out, "WriteAudit").length >= 1, `${e.type} left no audit record`);
    cmds.push(...out);
  }
  const records = ofType(cmds, "WriteAudit").map((c) => c.record);
  assert.ok(records.every((r) => r.correlationId === "corr-sig-9" && r.clientOrderId === id));
  assert.deepEqual(
    records.map((r) => r.seq),
    records.map((_, i) => i + 1),
  );
});

test("a repeated approval for the same signal is not sent twice", () => {
  const s = engine();
  sentOrder(s, "sig-1");
  const again = stepExecution(s, approval("sig-1"));
  assert.equal(ofType(again, "SendOrder").length, 0);
  assert.equal(ofType(again, "WriteAudit")[0]?.record.event, "duplicate_intent");
});

test("after a restart every unfinished order is resolved; one never sent is sent then", () => {
  const base = {
    signalId: "x",
    correlationId: "c",
    symbol: "XOM",
    side: "buy",
    qty: d(10),
    orderType: "market",
    limitPrice: null,
    timeInForce: "day",
    decisionPrice: d(100),
    brokerOrderId: null,
    filledQty: 0n,
    filledNotional: 0n,
    awaiting: "none",
    cancelRequested: false,
    createdNs: T0,
    updatedNs: T0,
  } as const;
  const orders: Order[] = [
    { ...base, clientOrderId: "sub", status: "Submitted", attempts: 1 },
    { ...base, clientOrderId: "created", status: "Created", attempts: 0 },
    {
      ...base,
      clientOrderId: "done",
      status: "Filled",
      attempts: 1,
      filledQty: d(10),
      filledNotional: d(1000),
    },
  ];
  const s = restoreExecutionState(SPEC_EXECUTION, orders, false, 42);
  stepExecution(s, { type: "TradeReceived", timeNs: T0, symbol: "XOM", price: d(100) });
  const started = stepExecution(s, { type: "Started", timeNs: T0 });
  assert.deepEqual(
    ofType(started, "ResolveOrder").map((c) => c.clientOrderId),
    ["sub", "created"],
  );
  assert.equal(ofType(started, "WriteAudit")[0]?.record.seq, 43);
  const c = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: "created",
    order: null,
  });
  assert.equal(ofType(c, "SendOrder")[0]?.request.clientOrderId, "created");
  const sub = stepExecution(s, {
    type: "OrderResolved",
    timeNs: T0,
    clientOrderId: "sub",
    order: null,
  });
  assert.equal(ofType(sub, "ScheduleRetry")[0]?.attempt, 2);
  const dup = stepExecution(s, tradeUpdate("done", "fill", "filled", 10, "100"));
  assert.equal(updates(dup).length, 0, "a finished order's replayed fill adds nothing");
});

test("trade updates for an unknown order are reported, not applied", () => {
  const s = engine();
  const cmds = stepExecution(s, tradeUpdate("tp-other", "fill", "filled", 1, "100"));
  assert.equal(ofType(cmds, "ReportAnomaly")[0]?.kind, "unknown_order");
  assert.equal(updates(cmds).length, 0);
});

test("a retry that finds the rate limit empty is rescheduled for the next token, not counted", () => {
  const s = engine({ maxOrdersPerMinute: 1 });
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  stepExecution(s, {
    type: "SendFailed",
    timeNs: T0,
    clientOrderId: id,
    failure: "retryable",
    httpStatus: 429,
    message: "slow",
  });
  const due = stepExecution(s, { type: "RetryDue", timeNs: T0 + SECOND, clientOrderId: id });
  const again = ofType(due, "ScheduleRetry")[0];
  assert.equal(again?.atNs, T0 + 60n * SECOND);
  assert.equal(again?.attempt, 2);
  assert.equal(ofType(due, "SendOrder").length, 0);
  const sent = stepExecution(s, { type: "RetryDue", timeNs: T0 + 60n * SECOND, clientOrderId: id });
  assert.equal(ofType(sent, "SendOrder")[0]?.attempt, 2);
});

test("an order acknowledged after the kill switch engaged is cancelled then", () => {
  const s = engine();
  const id = ofType(stepExecution(s, approval("sig-1")), "SendOrder")[0]!.request.clientOrderId;
  const kill = stepExecution(s, { type: "KillSwitchChanged", timeNs: T0, engaged: true });
  assert.deepEqual(ofType(kill, "CancelOrder"), [
    { type: "CancelOrder", clientOrderId: id, brokerOrderId: null },
  ]);
  const ack = stepExecution(s, {
    type: "SendSucceeded",
    timeNs: T0,
    clientOrderId: id,
    order: snapshot("new"),
  });
  assert.deepEqual(ofType(ack, "CancelOrder"), [
    { type: "CancelOrder", clientOrderId: id, brokerOrderId: "b-1" },
  ]);
  stepExecution(s, tradeUpdate(id, "canceled", "canceled"));
  assert.equal(s.finished.get(id)?.status, "Cancelled");
});

test("an intent without a signal id or with no quantity is dropped and reported, never thrown", () => {
  const s = engine();
  for (const bad of [{ ...approval("x"), signalId: "" }, approval("y", 0)]) {
    const cmds = stepExecution(s, bad);
    assert.equal(ofType(cmds, "ReportAnomaly")[0]?.kind, "invalid_intent");
    assert.equal(ofType(cmds, "SendOrder").length, 0);
  }
});

test("a retry policy whose delays do not match maxAttempts is refused, naming the field", () => {
  assert.throws(
    () => engine({ retries: { maxAttempts: 3, backoffSeconds: [1, 2] } }),
    (e: unknown) =>
      isTradepipeError(e, "TP_ERR_CONFIG") && /execution\.retries\.backoffSeconds/.test(e.message),
  );
});
