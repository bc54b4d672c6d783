import assert from "node:assert/strict";
import { test } from "node:test";
import { matches, parseFilter, wireFilter } from "./filters.ts";
import { allOf, kindOf, schemaOf, TopicSchemas, Topics, topic } from "./topics.ts";

test("every topic kind has a message type and the type follows from the topic", () => {
  for (const kind of Object.values(Topics)) assert.ok(TopicSchemas[kind], kind);
  assert.equal(topic(Topics.quote, "AAPL"), "md.quote/AAPL");
  assert.equal(kindOf("md.quote/AAPL"), "md.quote");
  assert.equal(kindOf("control"), "control");
  assert.equal(kindOf("md.quotes/AAPL"), undefined);
  assert.equal(schemaOf("order.intent")?.typeName, "tradepipe.v1.OrderIntent");
  assert.deepEqual(allOf(Topics.trade), ["md.trade", "md.trade/*"]);
});

test("filters match exactly or by prefix, and their wire form keeps that distinction", () => {
  const exact = parseFilter("control");
  const prefix = parseFilter("md.*");
  assert.ok(matches(exact, "control"));
  assert.ok(!matches(exact, "controlx"));
  assert.ok(matches(prefix, "md.trade/AAPL"));
  assert.ok(matches(parseFilter("*"), "anything"));
  assert.deepEqual(wireFilter(exact), Buffer.from("control\0"));
  assert.deepEqual(wireFilter(prefix), Buffer.from("md."));
  assert.throws(() => parseFilter("a*b"), /'\*' may only end a filter/);
});
