/**
 * SimulatedBroker is the backtest's venue: the simulator's own account state machine and matching
 * engine (services/broker-sim/core) with the backtest's fill model plugged in, put behind the
 * kernel's BrokerPort with order-path latency. An order the execution core sends reaches the
 * book after the entry latency; the venue's answer (the REST reply, then trade updates) reaches
 * the core after the response latency. Every step is an event on the run's one queue.
 */

import { assetFor } from "../broker-sim/assets.ts";
import {
  type BrokerState,
  createBroker,
  onQuote,
  onTrade,
  submitOrder,
  type TradeUpdate,
} from "../broker-sim/core/broker.ts";
import {
  type BookFillModel,
  createFillModel,
  type FillModelOptions,
} from "../broker-sim/core/fill-models.ts";
import { marketValues } from "../broker-sim/core/ledger.ts";
import { cancelOrder } from "../broker-sim/core/order-actions.ts";
import type {
  Order as BrokerOrder,
  OrderRequest as BrokerRequest,
} from "../broker-sim/core/orders.ts";
import { createPrng, type Prng } from "../broker-sim/core/prng.ts";
import type { Quote, Trade } from "../broker-sim/core/types.ts";
import { type FeeSchedule, fillFees } from "../core/fees.ts";
import { div, type Fixed, mul, ONE, ZERO } from "../core/money.ts";
import type {
  BrokerOrderSnapshot,
  CancelOrder,
  ExecutionEvent,
  SendOrder,
} from "../execution-engine/core/index.ts";
import type { BrokerPort } from "../kernel/kernel.ts";
import type { EventQueue } from "./event-queue.ts";
import { type Commission, commissionFor } from "./fees.ts";
import type { LatencyModel } from "./latency.ts";
import type { MarketRecord } from "./records.ts";

/** FillRecord: one execution at the venue, with its costs. */
export interface FillRecord {
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  qty: Fixed;
  price: Fixed;
  exchangeNs: bigint;
  fees: Fixed;
}

/** OrderRecord: one order as the venue saw it, for the order list and execution quality. */
export interface OrderRecord {
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  type: string;
  qty: Fixed;
  limitPrice: Fixed | null;
  sentNs: bigint;
  arrivedNs: bigint;
  /** arrivalMid: the mid of the venue's quote when the order arrived (0 when none). */
  arrivalMid: Fixed;
  filledQty: Fixed;
  filledNotional: Fixed;
  status: string;
  /** ackNs: when the core got the venue's reply (-1n before). */
  ackNs: bigint;
  /** firstFillSeenNs: when the core saw the first fill (-1n when none). */
  firstFillSeenNs: bigint;
  rejectReason: string;
}

export interface SimulatedBrokerOptions {
  queue: EventQueue;
  symbols: readonly string[];
  startingCash: Fixed;
  seed: number;
  startNs: bigint;
  latency: LatencyModel;
  fills: FillModelOptions;
  /** fees: the regulatory fee schedule; the venue's ledger charges it on every execution. */
  fees: FeeSchedule;
  commission: Commission;
  /** deliver hands a venue answer to the execution core (the kernel). */
  deliver(event: ExecutionEvent): void;
}

const NO_CONDITIONS: string[] = [];
const FAR_FUTURE = 1n << 62n;

export class SimulatedBroker implements BrokerPort {
  readonly state: BrokerState;
  readonly fills: FillRecord[] = [];
  readonly orders: OrderRecord[] = [];
  /** feesPaid: regulatory fees and commissions of every execution. */
  feesPaid: Fixed = ZERO;
  /** commissionPaid: the part of feesPaid the venue's ledger does not know of. */
  commissionPaid: Fixed = ZERO;
  private readonly byClientId = new Map<string, OrderRecord>();
  private readonly opts: SimulatedBrokerOptions;
  private readonly jitter: Prng;
  private readonly fillModel: BookFillModel;

  constructor(opts: SimulatedBrokerOptions) {
    this.opts = opts;
    this.fillModel = createFillModel(opts.fills);
    this.jitter = createPrng(opts.seed, "latency");
    this.state = createBroker(
      {
        seed: opts.seed,
        startingCash: opts.startingCash,
        partialFillProbability: 0,
        shortingEnabled: true,
        fillModel: this.fillModel,
        fees: opts.fees,
      },
      opts.symbols.map(assetFor),
      opts.startNs,
    );
  }

  /** equity: cash (net of regulatory fees) + positions at the venue's mids, less commissions. */
  equity(): Fixed {
    const { long, short } = marketValues(this.state.ledger, (s) => this.mid(s));
    return this.state.ledger.cash + long + short - this.commissionPaid;
  }

  grossExposure(): Fixed {
    const { long, short } = marketValues(this.state.ledger, (s) => this.mid(s));
    return long - short;
  }

  mid(symbol: string): Fixed | undefined {
    const q = this.state.quotes.get(symbol);
    if (q === undefined || q.bidPrice <= ZERO || q.askPrice <= ZERO) return undefined;
    return (q.bidPrice + q.askPrice) / 2n;
  }

  /** quote: a quote reaches the venue (exchange time); resting orders may fill. */
  quote(r: MarketRecord): void {
    const q: Quote = {
      symbol: r.symbol,
      t: r.exchangeNs,
      bidPrice: r.bidPrice,
      bidSize: sharesOf(r.bidSize),
      bidExchange: "",
      askPrice: r.askPrice,
      askSize: sharesOf(r.askSize),
      askExchange: "",
      conditions: NO_CONDITIONS,
      tape: "",
    };
    this.publish(
      onQuote(this.state, q, r.exchangeNs, true),
      r.exchangeNs,
      this.opts.latency.submitResponseNs,
    );
  }

  /** book: an L2 level change reaches the venue (the queue model's view of the book). */
  book(r: MarketRecord): void {
    const bid = r.bidPrice > ZERO;
    this.fillModel.onBook(
      r.symbol,
      bid ? "bid" : "ask",
      bid ? r.bidPrice : r.askPrice,
      bid ? r.bidSize : r.askSize,
      r.tradeId === 1,
    );
  }

  /** trade: a print reaches the venue; the fill model may fill resting limits against it. */
  trade(r: MarketRecord): void {
    const t: Trade = {
      symbol: r.symbol,
      t: r.exchangeNs,
      id: r.tradeId,
      price: r.price,
      size: sharesOf(r.size),
      exchange: "",
      conditions: NO_CONDITIONS,
      tape: "",
    };
    this.publish(
      onTrade(this.state, t, r.exchangeNs, true),
      r.exchangeNs,
      this.opts.latency.submitResponseNs,
    );
  }

  send(cmd: SendOrder, nowNs: bigint): void {
    const r = cmd.request;
    const { latency, queue } = this.opts;
    const arriveNs = nowNs + latency.submitEntryNs + this.draw();
    const record: OrderRecord = this.byClientId.get(r.clientOrderId) ?? {
      clientOrderId: r.clientOrderId,
      symbol: r.symbol,
      side: r.side,
      type: r.orderType,
      qty: r.qty,
      limitPrice: r.limitPrice,
      sentNs: nowNs,
      arrivedNs: arriveNs,
      arrivalMid: ZERO,
      filledQty: ZERO,
      filledNotional: ZERO,
      status: "sent",
      ackNs: -1n,
      firstFillSeenNs: -1n,
      rejectReason: "",
    };
    if (!this.byClientId.has(r.clientOrderId)) {
      this.byClientId.set(r.clientOrderId, record);
      this.orders.push(record);
    }
    queue.schedule(arriveNs, () => {
      record.arrivalMid = this.mid(r.symbol) ?? ZERO;
      const req: BrokerRequest = {
        symbol: r.symbol,
        side: r.side,
        type: r.orderType,
        timeInForce: r.timeInForce,
        qty: r.qty,
        notional: null,
        limitPrice: r.limitPrice,
        stopPrice: null,
        trailPrice: null,
        trailPercent: null,
        extendedHours: false,
        clientOrderId: r.clientOrderId,
      };
      const outcome = submitOrder(this.state, req, arriveNs, { open: true, close: FAR_FUTURE });
      const replyNs = arriveNs + latency.submitResponseNs + this.draw();
      if (!outcome.ok) {
        const { status, body } = outcome.error;
        const message = String((body as { message?: unknown }).message ?? "refused");
        record.status = "refused";
        record.rejectReason = message;
        queue.schedule(replyNs, () => {
          record.ackNs = replyNs;
          this.opts.deliver({
            type: "SendFailed",
            timeNs: replyNs,
            clientOrderId: r.clientOrderId,
            failure:
              status === 422 && message.includes("must be unique") ? "duplicate" : "rejected",
            httpStatus: status,
            message,
          });
        });
        return;
      }
      const order = snapshotOf(outcome.value);
      queue.schedule(replyNs, () => {
        record.ackNs = replyNs;
        this.opts.deliver({
          type: "SendSucceeded",
          timeNs: replyNs,
          clientOrderId: r.clientOrderId,
          order,
        });
      });
      this.publish(outcome.updates, arriveNs, latency.submitResponseNs);
    });
  }

  cancel(cmd: CancelOrder, nowNs: bigint): void {
    const { latency, queue } = this.opts;
    const arriveNs = nowNs + latency.cancelEntryNs + this.draw();
    queue.schedule(arriveNs, () => {
      const o = this.state.byClientId.get(cmd.clientOrderId);
      const outcome = o === undefined ? undefined : cancelOrder(this.state, o.id, arriveNs);
      const replyNs = arriveNs + latency.cancelResponseNs + this.draw();
      if (outcome === undefined || !outcome.ok) {
        const message =
          outcome === undefined
            ? "order not found"
            : String((outcome.error.body as { message?: unknown }).message ?? "refused");
        queue.schedule(replyNs, () =>
          this.opts.deliver({
            type: "CancelFailed",
            timeNs: replyNs,
            clientOrderId: cmd.clientOrderId,
            message,
          }),
        );
        return;
      }
      this.publish(outcome.updates, arriveNs, latency.cancelResponseNs);
    });
  }

  resolve(clientOrderId: string, nowNs: bigint): void {
    const { latency, queue } = this.opts;
    const arriveNs = nowNs + latency.submitEntryNs + this.draw();
    queue.schedule(arriveNs, () => {
      const o = this.state.byClientId.get(clientOrderId);
      const order = o === undefined ? null : snapshotOf(o);
      const replyNs = arriveNs + latency.submitResponseNs + this.draw();
      queue.schedule(replyNs, () =>
        this.opts.deliver({ type: "OrderResolved", timeNs: replyNs, clientOrderId, order }),
      );
    });
  }

  /** publish books fills and sends each trade update to the core after the response latency. */
  private publish(updates: readonly TradeUpdate[], venueNs: bigint, responseNs: bigint): void {
    if (updates.length === 0) return;
    // One delay for the whole batch: the stream delivers one order's updates in order.
    const seenNs = venueNs + responseNs + this.draw();
    for (const u of updates) {
      const record = this.byClientId.get(u.order.clientOrderId);
      if (record !== undefined) {
        record.status = u.order.status;
        record.filledQty = u.order.filledQty;
        record.filledNotional = u.order.filledNotional;
      }
      if (u.qty !== undefined && u.price !== undefined) {
        const before = u.order.filledQty - u.qty;
        const commission = commissionFor(this.opts.commission, u.qty, before === ZERO);
        const regulatory = fillFees(
          this.opts.fees,
          u.order.side,
          before,
          u.order.filledQty,
          mul(u.qty, u.price),
        ).total;
        const fees = regulatory + commission;
        this.commissionPaid += commission;
        this.feesPaid += fees;
        this.fills.push({
          clientOrderId: u.order.clientOrderId,
          symbol: u.order.symbol,
          side: u.order.side,
          qty: u.qty,
          price: u.price,
          exchangeNs: venueNs,
          fees,
        });
      }
      const event: ExecutionEvent = {
        type: "TradeUpdated",
        timeNs: seenNs,
        clientOrderId: u.order.clientOrderId,
        event: u.event,
        order: snapshotOf(u.order),
        executionId: u.executionId ?? "",
        fillQty: u.qty ?? null,
        fillPrice: u.price ?? null,
      };
      this.opts.queue.schedule(seenNs, () => {
        if (record !== undefined && u.qty !== undefined && record.firstFillSeenNs < 0n) {
          record.firstFillSeenNs = seenNs;
        }
        this.opts.deliver(event);
      });
    }
  }

  private draw(): bigint {
    const j = this.opts.latency.jitterNs;
    return j > 0n ? BigInt(Math.floor(this.jitter.next() * Number(j))) : 0n;
  }
}

/** Below this a size's Number is exact and so is every product of the check in sharesOf. */
const SHARES_FAST_LIMIT = 2 ** 52;

/**
 * sharesOf: a size in whole shares, as Number(size / ONE) (truncated), without dividing a
 * bigint on every record: through the size's exact Number value, the quotient corrected to the
 * exact one by integer comparisons (exact below SHARES_FAST_LIMIT).
 */
export function sharesOf(size: Fixed): number {
  const n = Number(size);
  if (n >= 0 && n < SHARES_FAST_LIMIT) {
    let q = Math.floor(n / 1e9);
    if (q * 1e9 > n) q -= 1;
    else if ((q + 1) * 1e9 <= n) q += 1;
    return q;
  }
  return Number(size / ONE);
}

function snapshotOf(o: BrokerOrder): BrokerOrderSnapshot {
  return {
    brokerOrderId: o.id,
    status: o.status,
    filledQty: o.filledQty,
    filledAvgPrice: o.filledQty > ZERO ? div(o.filledNotional, o.filledQty) : null,
  };
}
