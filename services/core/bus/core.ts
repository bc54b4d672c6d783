/**
 * BusCore is the transport-independent half of every bus: it stamps outgoing frames (per-topic
 * sequence, publish time, publisher id) and, for incoming frames, checks sequences, counts gaps
 * and dispatches to the matching handlers. Transports only move frames.
 */
import { channel } from "node:diagnostics_channel";
import { TradepipeError } from "../errors.ts";
import { type ClockNs, wallClockNs } from "../messages/time.ts";
import { matches, type ParsedFilter, parseFilter } from "./filters.ts";
import { decodeFrame, encodeFrame, newPublisherId, stampedPayload, topicBytes } from "./frame.ts";
import { SequenceTracker, Verdict } from "./sequence.ts";
import type {
  BusHandler,
  BusMessage,
  BusObserver,
  BusOptions,
  BusStats,
  StreamPosition,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

/** gapChannel publishes `{ topic, missing, publisherId }` on every detected gap. */
export const gapChannel = channel("tradepipe:bus:gap");

interface OutTopic {
  bytes: Buffer;
  sequence: number;
}

/** SubscriptionEntry: one subscription (opaque to transports, which only hold it). */
export interface SubscriptionEntry {
  readonly filters: ParsedFilter[];
  readonly handler: BusHandler;
  readonly background: boolean;
}

/** HoldBackground takes a background subscription's delivery to run later (in-process bus). */
export type HoldBackground = (entry: SubscriptionEntry, message: BusMessage) => void;

/** FilterListener is told when the union of filters gains or loses a filter text. */
export interface FilterListener {
  added(filter: ParsedFilter): void;
  removed(filter: ParsedFilter): void;
}

export class BusCore {
  readonly publisherId: number;
  readonly #clock: ClockNs;
  readonly #observer: BusObserver;
  readonly #outTopics = new Map<string, OutTopic>();
  readonly #tracker = new SequenceTracker();
  readonly #subs = new Set<SubscriptionEntry>();
  readonly #filterCounts = new Map<string, number>();
  readonly #routes = new Map<string, SubscriptionEntry[]>();
  readonly #filterListener: FilterListener | undefined;
  /** Set by a transport that holds background deliveries; without it they run inline. */
  holdBackground: HoldBackground | undefined;
  readonly counters: BusStats = {
    published: 0,
    dropped: 0,
    delivered: 0,
    gaps: 0,
    missing: 0,
    stale: 0,
    streamsStarted: 0,
    malformed: 0,
    handlerErrors: 0,
  };
  closed = false;

  constructor(options: BusOptions, filterListener?: FilterListener) {
    this.publisherId = options.publisherId ?? newPublisherId();
    this.#clock = options.clock ?? wallClockNs;
    this.#observer = options.observer ?? {};
    this.#filterListener = filterListener;
    if (options.resumeFrom) this.#tracker.resume(options.resumeFrom);
  }

  /** stamp builds the next frame for `topic`, `prefix` bytes reserved for transport framing. */
  stamp(topic: string, payload: Uint8Array, prefix = 0): { frame: Buffer; sequence: number } {
    if (this.closed) throw new TradepipeError("TP_ERR_BUS_CLOSED");
    let out = this.#outTopics.get(topic);
    if (!out) {
      out = { bytes: topicBytes(topic), sequence: 0 };
      this.#outTopics.set(topic, out);
    }
    const sequence = ++out.sequence;
    const frame = encodeFrame(
      out.bytes,
      payload,
      sequence,
      this.#clock(),
      this.publisherId,
      prefix,
    );
    this.counters.published++;
    return { frame, sequence };
  }

  /**
   * local stamps the next message for `topic` as an in-process message (no frame): `value` is
   * the publisher's copy, `bytes` its encoding or a function that makes it from `value` the
   * first time a subscriber reads `payload` (see LocalMessage).
   */
  local<T>(
    topic: string,
    value: T,
    bytes: Uint8Array | ((value: T) => Uint8Array),
  ): LocalMessage<T> {
    if (this.closed) throw new TradepipeError("TP_ERR_BUS_CLOSED");
    let out = this.#outTopics.get(topic);
    if (!out) {
      out = { bytes: topicBytes(topic), sequence: 0 };
      this.#outTopics.set(topic, out);
    }
    this.counters.published++;
    return new LocalMessage(topic, ++out.sequence, this.#clock(), this.publisherId, value, bytes);
  }

  /** receive checks and dispatches one incoming frame. */
  receive(frame: Buffer): void {
    const decoded = decodeFrame(frame);
    if (!decoded) {
      this.counters.malformed++;
      return;
    }
    this.receiveMessage(decoded);
  }

  /** receiveMessage checks and dispatches one message (a decoded frame, or a LocalMessage). */
  receiveMessage(decoded: BusMessage): void {
    const { topic, sequence, publisherId } = decoded;
    // Only subscribed streams are tracked, as a filtering transport only ever sees those.
    const route = this.#route(topic);
    if (route.length === 0) return;
    const verdict = this.#tracker.observe(publisherId, topic, sequence);
    if (verdict === Verdict.Stale) {
      this.counters.stale++;
      this.#observer.stale?.(topic, sequence, publisherId);
      return;
    }
    if (verdict === Verdict.Gap) this.#countGap(topic, this.#tracker.lastMissing, publisherId);
    else if (verdict === Verdict.Started) {
      this.counters.streamsStarted++;
      this.#observer.streamStarted?.(topic, publisherId);
    }
    this.counters.delivered++;
    this.#observer.delivered?.(topic, decoded.publishTimeNs);
    const message = decoded;
    const hold = this.holdBackground;
    for (const entry of route) {
      if (entry.background && hold !== undefined) hold(entry, message);
      else this.#deliver(entry, message);
    }
  }

  /** deliverHeld runs a held delivery, unless its subscription has ended meanwhile. */
  deliverHeld(entry: SubscriptionEntry, message: BusMessage): void {
    if (this.#subs.has(entry)) this.#deliver(entry, message);
  }

  #deliver(entry: SubscriptionEntry, message: BusMessage): void {
    try {
      entry.handler(message);
    } catch (error) {
      this.#handlerFailed(error, message.topic);
    }
  }

  subscribe(
    filters: readonly string[],
    handler: BusHandler,
    options: SubscribeOptions = {},
  ): Subscription {
    if (this.closed) throw new TradepipeError("TP_ERR_BUS_CLOSED");
    const entry: SubscriptionEntry = {
      filters: filters.map(parseFilter),
      handler,
      background: options.background === true,
    };
    this.#subs.add(entry);
    this.#routes.clear();
    for (const f of entry.filters) {
      const n = this.#filterCounts.get(f.text) ?? 0;
      this.#filterCounts.set(f.text, n + 1);
      if (n === 0) this.#filterListener?.added(f);
    }
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        this.#subs.delete(entry);
        this.#routes.clear();
        for (const f of entry.filters) {
          const n = (this.#filterCounts.get(f.text) ?? 1) - 1;
          if (n > 0) this.#filterCounts.set(f.text, n);
          else {
            this.#filterCounts.delete(f.text);
            if (!this.closed) this.#filterListener?.removed(f);
          }
        }
      },
    };
  }

  /** countDropped records messages a transport dropped at the publisher. */
  countDropped(n = 1): void {
    this.counters.dropped += n;
  }

  stats(): BusStats {
    return { ...this.counters };
  }

  positions(): StreamPosition[] {
    return this.#tracker.positions();
  }

  #route(topic: string): SubscriptionEntry[] {
    let route = this.#routes.get(topic);
    if (!route) {
      route = [...this.#subs].filter((s) => s.filters.some((f) => matches(f, topic)));
      this.#routes.set(topic, route);
    }
    return route;
  }

  #countGap(topic: string, missing: number, publisherId: number): void {
    this.counters.gaps++;
    this.counters.missing += missing;
    this.#observer.gap?.(topic, missing, publisherId);
    if (gapChannel.hasSubscribers) gapChannel.publish({ topic, missing, publisherId });
  }

  #handlerFailed(error: unknown, topic: string): void {
    this.counters.handlerErrors++;
    if (this.#observer.handlerError) this.#observer.handlerError(error, topic);
    else {
      // A handler bug must not pass silently, nor stop delivery to the other handlers.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/**
 * LocalMessage is a message of the in-process bus: no frame is built or parsed. `payload` (the
 * encoding followed by the header stamp, as from a frame) is made on first read: in the fused
 * pipeline the hot path's subscribers read `value` and the bytes are never made.
 */
export class LocalMessage<T = unknown> implements BusMessage {
  readonly topic: string;
  readonly sequence: number;
  readonly publishTimeNs: bigint;
  readonly publisherId: number;
  readonly value: T;
  #bytes: Uint8Array | ((value: T) => Uint8Array);
  #payload: Buffer | undefined;

  constructor(
    topic: string,
    sequence: number,
    publishTimeNs: bigint,
    publisherId: number,
    value: T,
    bytes: Uint8Array | ((value: T) => Uint8Array),
  ) {
    this.topic = topic;
    this.sequence = sequence;
    this.publishTimeNs = publishTimeNs;
    this.publisherId = publisherId;
    this.value = value;
    // IMPORTANT: bytes handed over are copied now (a codec's buffer is reused by its next call).
    this.#bytes = bytes;
    this.#payload =
      typeof bytes === "function"
        ? undefined
        : stampedPayload(bytes, sequence, publishTimeNs, publisherId);
  }

  get payload(): Buffer {
    if (this.#payload === undefined) {
      const encode = this.#bytes as (value: T) => Uint8Array;
      this.#payload = stampedPayload(
        encode(this.value),
        this.sequence,
        this.publishTimeNs,
        this.publisherId,
      );
    }
    return this.#payload;
  }
}
