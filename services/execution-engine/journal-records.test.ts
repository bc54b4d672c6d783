import assert from "node:assert/strict";
import { test } from "node:test";
import { isTradepipeError } from "../core/errors.ts";
import type { AuditRecord, Order } from "./core/index.ts";
import { decodeEntry, encodeAudit, encodeHeader } from "./journal-records.ts";

const order: Order = {
  clientOrderId: "tp-0123abcd-ssig-1",
  signalId: "sig-1",
  correlationId: "corr-1",
  symbol: "AAPL",
  side: "buy",
  qty: 5_000_000_000n,
  orderType: "limit",
  limitPrice: 190_960_000_000n,
  timeInForce: "day",
  decisionPrice: 190_010_000_000n,
  status: "Submitted",
  brokerOrderId: null,
  filledQty: 0n,
  filledNotional: 0n,
  attempts: 1,
  awaiting: "send",
  cancelRequested: false,
  createdNs: 1_780_000_000_123_456_789n,
  updatedNs: 1_780_000_000_123_456_790n,
};
const record: AuditRecord = {
  seq: 7,
  clientOrderId: order.clientOrderId,
  correlationId: "corr-1",
  event: "send",
  fromStatus: "Created",
  toStatus: "Submitted",
  attempt: 1,
  detail: { attempt: "1" },
  timeNs: 1_780_000_000_123_456_790n,
};
const frame = (s: string) => Buffer.from(s, "utf8");

test("an audit record and its order come back exactly, bigints and nulls included", () => {
  for (const o of [order, { ...order, limitPrice: null, orderType: "market" as const }]) {
    const back = decodeEntry(frame(encodeAudit({ record, order: o })));
    assert.deepEqual(back, { kind: "audit", write: { record, order: o } });
  }
});

test("a header names the database, epoch and prefix", () => {
  const h = { db: "7312/tp", epoch: 4, prefix: "tp-0123abcd-", startedNs: "1" };
  assert.deepEqual(decodeEntry(frame(encodeHeader(h))), {
    kind: "header",
    header: { k: "h", ...h },
  });
});

test("a frame that is not a journal entry is TP_ERR_JOURNAL, naming what it is", () => {
  for (const bad of ["not json", '{"k":"x"}', '{"k":"a","r":1}']) {
    assert.throws(
      () => decodeEntry(frame(bad)),
      (e) => isTradepipeError(e, "TP_ERR_JOURNAL"),
    );
  }
});
