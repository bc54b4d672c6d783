/**
 * SequenceTracker: the subscriber-side sequence state machine, without I/O.
 *
 * A stream is (publisher id, topic). Its first message sets the baseline unless a position was
 * persisted for it (`resume`), in which case a forward jump from the persisted sequence is a gap.
 * A restarted publisher has a new id and so starts a new stream: the messages it never
 * published are not missing, and anything its predecessor lost in flight is invisible to
 * sequence numbers (stages reconcile state from the database and the broker for that).
 */
import type { StreamPosition } from "./types.ts";

export const Verdict = {
  /** First message of a stream with no persisted position. */
  Started: 0,
  /** The next sequence. */
  InOrder: 1,
  /** A forward jump: `lastMissing` messages were lost. */
  Gap: 2,
  /** At or below the last sequence: a duplicate or reordering; drop it. */
  Stale: 3,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export class SequenceTracker {
  readonly #streams = new Map<number, Map<string, number>>();
  /** lastMissing is how many messages the last `Gap` verdict skipped. */
  lastMissing = 0;

  /** resume seeds streams from persisted positions. */
  resume(positions: readonly StreamPosition[]): void {
    for (const p of positions) this.#byPublisher(p.publisherId).set(p.topic, p.sequence);
  }

  observe(publisherId: number, topic: string, sequence: number): Verdict {
    const topics = this.#byPublisher(publisherId);
    const last = topics.get(topic);
    if (last === undefined) {
      topics.set(topic, sequence);
      return Verdict.Started;
    }
    if (sequence === last + 1) {
      topics.set(topic, sequence);
      return Verdict.InOrder;
    }
    if (sequence <= last) return Verdict.Stale;
    topics.set(topic, sequence);
    this.lastMissing = sequence - last - 1;
    return Verdict.Gap;
  }

  positions(): StreamPosition[] {
    const out: StreamPosition[] = [];
    for (const [publisherId, topics] of this.#streams) {
      for (const [topic, sequence] of topics) out.push({ publisherId, topic, sequence });
    }
    return out;
  }

  #byPublisher(publisherId: number): Map<string, number> {
    let topics = this.#streams.get(publisherId);
    if (!topics) {
      topics = new Map();
      this.#streams.set(publisherId, topics);
    }
    return topics;
  }
}
