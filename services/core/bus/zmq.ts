/**
 * ZmqBus: the bus over ZeroMQ PUB/SUB (`ipc://` on one host, `tcp://` between hosts).
 *
 * One bus instance may publish (a PUB socket bound to `bind` endpoints) and subscribe (a SUB
 * socket connected to `connect` endpoints, usually the upstream stages' PUB endpoints). Each
 * message is one frame (topic, 0x00, payload, stamp; see frame.ts) so SUB prefix filtering works
 * on the topic without multipart messages.
 *
 * IMPORTANT: `sendTimeout = 0` makes send() a non-blocking zmq_msg_send; a PUB socket drops a
 * message for any subscriber whose pipe is at the high-water mark, so a slow subscriber never
 * blocks the publisher and sees the drop as a sequence gap. It also skips a ZMQ_EVENTS poll per
 * send (see test/bench/README.md for the measured cost).
 */
import { Publisher, Subscriber } from "zeromq";
import { TradepipeError } from "../errors.ts";
import { BusCore } from "./core.ts";
import { type BusCurve, checkCurveKey } from "./curve.ts";
import { wireFilter } from "./filters.ts";
import type {
  Bus,
  BusHandler,
  BusOptions,
  BusStats,
  StreamPosition,
  Subscription,
} from "./types.ts";
import { registerZapDomain, type ZapDecision } from "./zap.ts";

/**
 * DEFAULT_SEND_HIGH_WATER_MARK bounds what a publisher queues for one subscriber that does not
 * read (a stalled or idle peer): past it, that subscriber's messages are dropped and it sees a
 * gap. 10,000 frames of a few hundred bytes is a few MB per peer, and several seconds of the
 * busiest topic; a live subscriber never gets near it.
 */
export const DEFAULT_SEND_HIGH_WATER_MARK = 10_000;

export interface ZmqBusOptions extends BusOptions {
  /** Endpoints the PUB socket binds (e.g. `ipc:///run/tradepipe/market-data.sock`). */
  bind?: readonly string[];
  /** Endpoints the SUB socket connects to. */
  connect?: readonly string[];
  /** Messages queued per subscriber before the publisher drops; default 10,000. */
  sendHighWaterMark?: number;
  /** Messages queued in the subscriber before its side drops; default 100,000. */
  receiveHighWaterMark?: number;
  /** First reconnect delay in ms (doubling up to `reconnectMaxInterval`); default 100. */
  reconnectInterval?: number;
  reconnectMaxInterval?: number;
  /**
   * CURVE encryption and authentication (curve.ts). The publisher admits only clients whose
   * public key is allowed; the subscriber only talks to a publisher holding `serverKey`.
   */
  curve?: BusCurve;
  /** Called with each CURVE handshake the publisher's ZAP handler decided (logs, tests). */
  onAuthentication?: (decision: ZapDecision) => void;
}

export class ZmqBus implements Bus {
  readonly #core: BusCore;
  readonly #pub: Publisher | undefined;
  readonly #sub: Subscriber | undefined;
  readonly #boundEndpoints: string[] = [];
  #unregisterZap: (() => Promise<void>) | undefined;
  #readLoop: Promise<void> | undefined;
  readonly #sendFailed = (): void => {
    this.#core.countDropped();
  };

  /** open binds and connects; use it rather than the constructor. */
  static async open(options: ZmqBusOptions): Promise<ZmqBus> {
    const bus = new ZmqBus(options);
    try {
      if (bus.#pub && options.curve) {
        // IMPORTANT: the ZAP handler must hold the allow-list before the first bind, or libzmq
        // admits any CURVE client during the gap.
        const curve = options.curve;
        const allowed = curve.allowedClientKeys ?? [curve.publicKey];
        for (const [i, key] of allowed.entries()) {
          checkCurveKey(key, `bus curve allowedClientKeys[${i}]`);
        }
        const zap = await registerZapDomain(allowed, options.onAuthentication);
        bus.#unregisterZap = zap.unregister;
        bus.#pub.zapDomain = zap.domain;
      }
      for (const endpoint of options.bind ?? []) await bus.#bind(endpoint);
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  private constructor(options: ZmqBusOptions) {
    const reconnect = {
      reconnectInterval: options.reconnectInterval ?? 100,
      reconnectMaxInterval: options.reconnectMaxInterval ?? 2000,
      linger: 0,
    };
    const curve = options.curve;
    if (curve) {
      checkCurveKey(curve.publicKey, "bus curve publicKey");
      checkCurveKey(curve.secretKey, "bus curve secretKey");
      if (curve.serverKey) checkCurveKey(curve.serverKey, "bus curve serverKey");
    }
    if (options.bind && options.bind.length > 0) {
      this.#pub = new Publisher({
        ...reconnect,
        sendHighWaterMark: options.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK,
        sendTimeout: 0,
        ...(curve ? { curveServer: true, curveSecretKey: curve.secretKey } : {}),
      });
    }
    const sub =
      options.connect && options.connect.length > 0
        ? new Subscriber({
            ...reconnect,
            receiveHighWaterMark: options.receiveHighWaterMark ?? 100_000,
            ...(curve
              ? {
                  curvePublicKey: curve.publicKey,
                  curveSecretKey: curve.secretKey,
                  curveServerKey: curve.serverKey ?? curve.publicKey,
                }
              : {}),
          })
        : undefined;
    this.#sub = sub;
    this.#core = new BusCore(
      options,
      sub && {
        added: (f) => sub.subscribe(wireFilter(f)),
        removed: (f) => sub.unsubscribe(wireFilter(f)),
      },
    );
    if (sub) {
      for (const endpoint of options.connect ?? []) sub.connect(endpoint);
    }
  }

  /** endpoints are the bound endpoints as connectable addresses (tcp port 0 resolved). */
  get endpoints(): readonly string[] {
    return this.#boundEndpoints;
  }

  get publisherId(): number {
    return this.#core.publisherId;
  }

  publish(topic: string, payload: Uint8Array): number {
    if (!this.#pub) {
      throw new TradepipeError("TP_ERR_CONFIG", "bus: publish needs at least one `bind` endpoint");
    }
    const { frame, sequence } = this.#core.stamp(topic, payload);
    // With sendTimeout 0 the send has already happened when send() returns; the promise only
    // reports errors (e.g. the socket closed), which count as drops.
    this.#pub.send(frame).catch(this.#sendFailed);
    return sequence;
  }

  subscribe(filters: readonly string[], handler: BusHandler): Subscription {
    if (!this.#sub) {
      throw new TradepipeError(
        "TP_ERR_CONFIG",
        "bus: subscribe needs at least one `connect` endpoint",
      );
    }
    const subscription = this.#core.subscribe(filters, handler);
    this.#readLoop ??= this.#read(this.#sub);
    return subscription;
  }

  /** connect adds an upstream endpoint after open (e.g. a stage discovered later). */
  connect(endpoint: string): void {
    if (!this.#sub) throw new TradepipeError("TP_ERR_CONFIG", "bus: created without `connect`");
    this.#sub.connect(endpoint);
  }

  /** disconnect drops an upstream endpoint; messages published meanwhile are missed (a gap). */
  disconnect(endpoint: string): void {
    if (!this.#sub) throw new TradepipeError("TP_ERR_CONFIG", "bus: created without `connect`");
    this.#sub.disconnect(endpoint);
  }

  stats(): BusStats {
    return this.#core.stats();
  }

  positions(): StreamPosition[] {
    return this.#core.positions();
  }

  async close(): Promise<void> {
    if (this.#core.closed) return;
    this.#core.closed = true;
    this.#pub?.close();
    this.#sub?.close();
    await this.#readLoop;
    await this.#unregisterZap?.();
  }

  async #bind(endpoint: string): Promise<void> {
    const pub = this.#pub!;
    try {
      await pub.bind(endpoint);
    } catch (error) {
      throw new TradepipeError("TP_ERR_CONFIG", `bus: cannot bind ${endpoint}: ${String(error)}`, {
        cause: error,
      });
    }
    this.#boundEndpoints.push(pub.lastEndpoint ?? endpoint);
  }

  /**
   * #read is the receive loop. receive() resolves synchronously while the socket has messages
   * (zeromq checks ZMQ_EVENTS itself), so this drains every ready message per wake-up; it only
   * parks on the socket's file descriptor when the queue is empty.
   */
  async #read(sub: Subscriber): Promise<void> {
    const core = this.#core;
    while (!core.closed) {
      let frames: Buffer[];
      try {
        frames = await sub.receive();
      } catch (error) {
        if (core.closed || sub.closed) return;
        throw error;
      }
      core.receive(frames[0]!);
    }
  }
}
