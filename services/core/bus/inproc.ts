/**
 * InProcBus: the bus inside one process, for the fused mode, backtests and tests. It stamps
 * every message as the other transports do (per-topic sequence, publish time, publisher id) but
 * builds no frame: a handler gets a LocalMessage (core.ts) whose `payload` holds the same bytes
 * a frame would carry (a copy: the same isolation as over ZeroMQ), and whose `value` is the
 * publisher's own copy of the message when it passed one, so a subscriber that knows the
 * topic's fields reads them without decoding. `publishEncoded` goes further: the bytes are made
 * only if a subscriber reads `payload` (in the fused pipeline, none on the tick → order path).
 *
 * Delivery is trampolined: `publish` called from a handler queues the message and the outermost
 * publish delivers it, so every handler sees every topic in publish order and no handler
 * re-enters. `delivery: "microtask"` defers delivery to a microtask instead, so a publisher's
 * loop never runs handlers inline; then `highWaterMark` bounds the queue and a message beyond it
 * is dropped (and seen as a gap), as a slow ZeroMQ subscriber would see it.
 *
 * A `background` subscription (types.ts SubscribeOptions) is served last: its deliveries wait in
 * a second queue that is drained only when every message queued so far has been delivered to
 * the other subscriptions. In the fused pipeline the position tracker's marks therefore run
 * after the tick's signal, intent and order, not between the signal-bridge and the risk-manager.
 */
import { BusCore, type SubscriptionEntry } from "./core.ts";
import type {
  Bus,
  BusHandler,
  BusMessage,
  BusOptions,
  BusStats,
  StreamPosition,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

export interface InProcBusOptions extends BusOptions {
  delivery?: "sync" | "microtask";
  /** Messages queued for delivery at most; default 100,000. */
  highWaterMark?: number;
}

export class InProcBus implements Bus {
  readonly #core: BusCore;
  readonly #queue: BusMessage[] = [];
  #head = 0;
  /** Background deliveries held until the queue above is empty: subscription, message, … */
  readonly #held: Array<SubscriptionEntry | BusMessage> = [];
  #heldHead = 0;
  #draining = false;
  #scheduled = false;
  readonly #microtask: boolean;
  readonly #highWaterMark: number;

  constructor(options: InProcBusOptions = {}) {
    this.#core = new BusCore(options);
    this.#core.holdBackground = (entry, message) => {
      this.#held.push(entry, message);
    };
    this.#microtask = options.delivery === "microtask";
    this.#highWaterMark = options.highWaterMark ?? 100_000;
  }

  get publisherId(): number {
    return this.#core.publisherId;
  }

  publish(topic: string, payload: Uint8Array, value?: unknown): number {
    return this.#enqueue(this.#core.local(topic, value, payload));
  }

  /**
   * publishEncoded publishes `value` (a copy the publisher will not change again) and makes its
   * bytes with `encode(value)` only if a subscriber reads `payload`. Use publishFields
   * (fields.ts), which does this in-process and encodes at once on the other transports.
   */
  publishEncoded<T>(topic: string, value: T, encode: (value: T) => Uint8Array): number {
    return this.#enqueue(this.#core.local(topic, value, encode));
  }

  #enqueue(message: BusMessage): number {
    if (this.#queue.length - this.#head >= this.#highWaterMark) {
      this.#core.countDropped();
      return message.sequence;
    }
    this.#queue.push(message);
    if (this.#microtask) {
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(() => {
          this.#scheduled = false;
          this.#drain();
        });
      }
    } else {
      this.#drain();
    }
    return message.sequence;
  }

  subscribe(
    filters: readonly string[],
    handler: BusHandler,
    options?: SubscribeOptions,
  ): Subscription {
    return this.#core.subscribe(filters, handler, options);
  }

  stats(): BusStats {
    return this.#core.stats();
  }

  positions(): StreamPosition[] {
    return this.#core.positions();
  }

  async close(): Promise<void> {
    this.#core.closed = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#held.length = 0;
    this.#heldHead = 0;
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const core = this.#core;
    const queue = this.#queue;
    const held = this.#held;
    try {
      while (!core.closed) {
        if (this.#head < queue.length) {
          core.receiveMessage(queue[this.#head++]!);
        } else if (this.#heldHead < held.length) {
          // The queue is empty: one held background delivery, then the queue again (whatever
          // it published goes first).
          const entry = held[this.#heldHead++] as SubscriptionEntry;
          const message = held[this.#heldHead++] as BusMessage;
          core.deliverHeld(entry, message);
        } else {
          break;
        }
      }
    } finally {
      queue.length = 0;
      this.#head = 0;
      held.length = 0;
      this.#heldHead = 0;
      this.#draining = false;
    }
  }
}
