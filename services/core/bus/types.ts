/**
 * The bus contract shared by every transport (ZeroMQ, Unix socket, in-process).
 *
 * - `publish(topic, payload)` never blocks and never waits for subscribers: the bus stamps the
 *   next per-topic sequence number, the publish time and its publisher id into the message header
 *   and hands the frame to the transport. A frame a transport cannot queue (a subscriber past its
 *   high-water mark) is dropped; that subscriber later sees a sequence gap.
 * - Subscribers receive frames in publish order per (publisher, topic), detect gaps, and count
 *   them in `stats()`; `positions()` / the `resumeFrom` option let a restarted subscriber detect
 *   what it missed while it was down.
 */
import type { ClockNs } from "../messages/time.ts";

/** BusMessage is one delivered message. */
export interface BusMessage {
  readonly topic: string;
  /** The message's protobuf bytes (header stamped); decode with the topic's schema. */
  readonly payload: Uint8Array;
  /** Per-(publisher, topic) sequence number, from 1. */
  readonly sequence: number;
  /** When the publisher's bus sent it, nanoseconds on the publisher's clock. */
  readonly publishTimeNs: bigint;
  /** Identity of the publishing bus instance; a new id is a new sequence stream. */
  readonly publisherId: number;
  /**
   * value: on the in-process bus only, the message as its publisher built it, when it passed
   * one: a subscriber in the same process reads it instead of decoding `payload` (the fused
   * pipeline's tick → order path). Only a topic's codec module passes and reads one, so its type
   * is that module's fields (market-data/quote-wire.ts, signal-bridge/signal-wire.ts,
   * risk-manager/wire.ts). IMPORTANT: read-only, and valid only while the handler runs.
   */
  readonly value?: unknown;
}

export type BusHandler = (message: BusMessage) => void;

/** SubscribeOptions: how one subscription is served. */
export interface SubscribeOptions {
  /**
   * background: the subscriber only follows along (marks, dashboards), nothing waits for it.
   * On the in-process bus its deliveries are held until every message published meanwhile has
   * reached the other subscriptions, so it never runs ahead of a path's next consumer (the
   * fused tick → order path); it still gets its messages in publish order per (publisher,
   * topic), but may see another topic's later message (one the path published) first. Other
   * transports run each subscriber in its own process and ignore it.
   */
  background?: boolean;
}

export interface Subscription {
  unsubscribe(): void;
}

/** StreamPosition is the last sequence a subscriber processed on one stream; persist to resume. */
export interface StreamPosition {
  publisherId: number;
  topic: string;
  sequence: number;
}

export interface BusStats {
  /** Messages handed to the transport by publish(). */
  published: number;
  /** Messages the publisher knows it dropped (bounded queue full); ZeroMQ's PUB drops silently. */
  dropped: number;
  /** Messages delivered to at least one handler. */
  delivered: number;
  /** Times a stream's sequence jumped forward. */
  gaps: number;
  /** Messages missing inside those jumps. */
  missing: number;
  /** Messages at or below the last seen sequence (duplicates or reordering); not delivered. */
  stale: number;
  /** Streams seen for the first time (a new subscriber or a restarted publisher). */
  streamsStarted: number;
  /** Frames that were not bus frames; not delivered. */
  malformed: number;
  /** Handler invocations that threw. */
  handlerErrors: number;
}

/** BusObserver lets the shell turn bus events into metrics and logs; every hook is optional. */
export interface BusObserver {
  gap?(topic: string, missing: number, publisherId: number): void;
  stale?(topic: string, sequence: number, publisherId: number): void;
  streamStarted?(topic: string, publisherId: number): void;
  /** Called for every delivered message; keep it cheap. */
  delivered?(topic: string, publishTimeNs: bigint): void;
  handlerError?(error: unknown, topic: string): void;
}

/** BusOptions are shared by every implementation. */
export interface BusOptions {
  /** Clock stamped as publish time; defaults to the wall clock in nanoseconds. */
  clock?: ClockNs;
  observer?: BusObserver;
  /** Positions persisted by a previous run of this subscriber, to detect what it missed. */
  resumeFrom?: readonly StreamPosition[];
  /** Publisher id; random by default. Tests only: two live publishers must never share one. */
  publisherId?: number;
}

export interface Bus {
  /** publisherId stamped on every message this bus publishes. */
  readonly publisherId: number;
  /**
   * publish stamps and sends one message; returns the sequence number it was given. `value`:
   * the same message as an object the publisher will not change again (a copy), delivered as
   * BusMessage.value by the in-process bus and ignored by the others (see BusMessage.value).
   */
  publish(topic: string, payload: Uint8Array, value?: unknown): number;
  /** subscribe delivers messages whose topic matches any filter (exact, or prefix ending `*`). */
  subscribe(
    filters: readonly string[],
    handler: BusHandler,
    options?: SubscribeOptions,
  ): Subscription;
  stats(): BusStats;
  /** positions returns the last sequence processed on every stream seen. */
  positions(): StreamPosition[];
  close(): Promise<void>;
}
