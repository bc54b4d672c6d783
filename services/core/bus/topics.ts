/**
 * topics: every topic of the bus, in one place. A topic is a message kind (which fixes the
 * message type) optionally followed by `/` and a key, usually the symbol: `md.quote/AAPL`.
 * A subscriber learns the type of any frame from its topic alone.
 *
 * Filters (what `Bus.subscribe` takes) are exact topics, or prefixes ending in `*`:
 * `md.quote/*` is every symbol's quotes, `md.*` all market data, `*` everything.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import {
  BookDeltaSchema,
  BookSnapshotSchema,
  ControlSchema,
  HeartbeatSchema,
  OrderIntentSchema,
  OrderUpdateSchema,
  PortfolioUpdateSchema,
  PositionUpdateSchema,
  QuoteSchema,
  RiskStateSchema,
  TradeSchema,
  TradingSignalSchema,
} from "../messages/index.ts";

/** Topics names each message kind; the value is the topic (or the topic prefix before `/key`). */
export const Topics = {
  trade: "md.trade",
  quote: "md.quote",
  bookSnapshot: "md.book_snapshot",
  bookDelta: "md.book_delta",
  signal: "signal",
  orderIntent: "order.intent",
  orderUpdate: "order.update",
  positionUpdate: "position.update",
  portfolio: "position.portfolio",
  riskState: "risk.state",
  control: "control",
  heartbeat: "bus.heartbeat",
} as const;

export type TopicKind = (typeof Topics)[keyof typeof Topics];

/** TopicSchemas gives the message type carried by each kind. */
export const TopicSchemas: Readonly<Record<TopicKind, DescMessage>> = {
  "md.trade": TradeSchema,
  "md.quote": QuoteSchema,
  "md.book_snapshot": BookSnapshotSchema,
  "md.book_delta": BookDeltaSchema,
  signal: TradingSignalSchema,
  "order.intent": OrderIntentSchema,
  "order.update": OrderUpdateSchema,
  "position.update": PositionUpdateSchema,
  "position.portfolio": PortfolioUpdateSchema,
  "risk.state": RiskStateSchema,
  control: ControlSchema,
  "bus.heartbeat": HeartbeatSchema,
};

const KINDS = new Set<string>(Object.values(Topics));

/** topic builds `kind` or `kind/key`. */
export function topic(kind: TopicKind, key?: string): string {
  return key === undefined || key === "" ? kind : `${kind}/${key}`;
}

/** kindOf returns the message kind of a topic, or undefined for a topic outside this table. */
export function kindOf(topicName: string): TopicKind | undefined {
  const slash = topicName.indexOf("/");
  const kind = slash < 0 ? topicName : topicName.slice(0, slash);
  return KINDS.has(kind) ? (kind as TopicKind) : undefined;
}

/** schemaOf returns the message type of a topic, or undefined for an unknown topic. */
export function schemaOf(topicName: string): DescMessage | undefined {
  const kind = kindOf(topicName);
  return kind === undefined ? undefined : TopicSchemas[kind];
}

/** allOf returns the filters matching a kind with or without a key (`kind` and `kind/*`). */
export function allOf(kind: TopicKind): string[] {
  return [kind, `${kind}/*`];
}
