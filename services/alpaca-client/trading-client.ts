/**
 * AlpacaTradingClient: typed methods for Alpaca's Trading API v2 (account, clock, orders,
 * positions, assets). Bodies come back in their wire form (decimals as strings, see
 * wire-types.ts); domain.ts converts them to exact `Fixed` values.
 */
import { TradepipeError } from "../core/errors.ts";
import { DEFAULT_RECONNECT_BACKOFF } from "./backoff.ts";
import type { RestClientOptions } from "./config.ts";
import { DEFAULT_REST_OPTIONS } from "./config.ts";
import type { Credentials } from "./credentials.ts";
import { HttpTransport, mayHaveReachedBroker, type TransportDeps } from "./http-transport.ts";
import { OrderConnection } from "./order-connection.ts";
import {
  getOrderByClientOrderId,
  postOrder,
  type SubmitResult,
  submitOrder,
} from "./order-submit.ts";
import type {
  ActivitiesQuery,
  ClosePositionQuery,
  ListOrdersQuery,
  OrderRequest,
  ReplaceOrderRequest,
  WireAccount,
  WireActivity,
  WireAsset,
  WireCanceledOrder,
  WireClock,
  WireClosedPosition,
  WireOrder,
  WirePosition,
} from "./wire-types.ts";

export interface TradingClientConfig {
  /** tradingUrl is the Trading API origin (paper by default, see config.ts). */
  tradingUrl: string;
  credentials: Credentials;
  options?: Partial<RestClientOptions>;
  deps?: TransportDeps;
}

export class AlpacaTradingClient {
  readonly transport: HttpTransport;
  readonly options: RestClientOptions;
  /** orderConnection: the dedicated order connections, when `options.orderConnections` > 0. */
  readonly orderConnection: OrderConnection | undefined;
  readonly #deps: TransportDeps;

  constructor(config: TradingClientConfig) {
    this.options = { ...DEFAULT_REST_OPTIONS, ...config.options };
    this.#deps = config.deps ?? {};
    this.transport = new HttpTransport(
      config.tradingUrl,
      config.credentials.headers(),
      this.options,
      this.#deps,
    );
    if (this.options.orderConnections > 0) {
      const viaUndici = { transport: this.transport, options: this.options };
      this.orderConnection = new OrderConnection(
        {
          origin: config.tradingUrl,
          authHeaders: config.credentials.headers(),
          userAgent: this.options.userAgent,
          connections: this.options.orderConnections,
          connectMs: this.options.timeouts.connectMs,
          requestMs: this.options.orderTimeouts.requestMs,
          maxAttempts: this.options.maxAttempts,
          backoff: this.options.backoff,
          reconnectBackoff: DEFAULT_RECONNECT_BACKOFF,
          idleMs: this.options.keepAliveMs,
          ...(this.#deps.tls !== undefined ? { tls: this.#deps.tls } : {}),
        },
        {
          gate: this.transport.gate,
          fallback: (request) => postOrder(viaUndici, request),
          ...(this.#deps.random !== undefined ? { random: this.#deps.random } : {}),
          ...(this.#deps.now !== undefined ? { now: this.#deps.now } : {}),
          ...(this.#deps.sleep !== undefined ? { sleep: this.#deps.sleep } : {}),
        },
      );
    }
  }

  async getAccount(): Promise<WireAccount> {
    return (await this.transport.request<WireAccount>({ method: "GET", path: "/v2/account" })).data;
  }

  async getClock(): Promise<WireClock> {
    return (await this.transport.request<WireClock>({ method: "GET", path: "/v2/clock" })).data;
  }

  /** submitOrder places the order once and only once (see order-submit.ts). */
  async submitOrder(request: OrderRequest): Promise<WireOrder> {
    return (await this.submitOrderWithOutcome(request)).order;
  }

  /** submitOrderWithOutcome also says whether the order was created, recovered or existing. */
  submitOrderWithOutcome(request: OrderRequest): Promise<SubmitResult> {
    const deps = { transport: this.transport, options: this.options, ...this.#deps };
    return submitOrder(deps, request);
  }

  /**
   * postOrder is one POST without lookup or re-send, for a caller that resolves ambiguous
   * outcomes itself (the execution engine's state machine); see classifySendFailure.
   * IMPORTANT: the request must carry its client_order_id, or it cannot be resolved.
   */
  postOrder(request: OrderRequest & { client_order_id: string }): Promise<WireOrder> {
    // The dedicated connection (when configured) writes the request before this returns.
    if (this.orderConnection !== undefined) return this.orderConnection.post(request);
    return postOrder({ transport: this.transport, options: this.options }, request);
  }

  async getOrder(orderId: string, opts: { nested?: boolean } = {}): Promise<WireOrder> {
    const r = await this.transport.request<WireOrder>({
      method: "GET",
      path: `/v2/orders/${encodeURIComponent(orderId)}`,
      query: { nested: opts.nested },
    });
    return r.data;
  }

  /** getOrderByClientOrderId returns null when the broker has no such order. */
  getOrderByClientOrderId(clientOrderId: string): Promise<WireOrder | null> {
    return getOrderByClientOrderId(this.transport, clientOrderId);
  }

  async listOrders(query: ListOrdersQuery = {}): Promise<WireOrder[]> {
    const r = await this.transport.request<WireOrder[]>({
      method: "GET",
      path: "/v2/orders",
      query: { ...query },
    });
    return r.data;
  }

  /**
   * listActivities reads one page of account activities: of one `type` (the typed endpoint) or
   * of `query.activity_types` (the general one). Page on with the last id as `page_token`.
   */
  async listActivities(type: string | null, query: ActivitiesQuery = {}): Promise<WireActivity[]> {
    const { activity_types, ...rest } = query;
    const r = await this.transport.request<WireActivity[]>({
      method: "GET",
      path:
        type === null
          ? "/v2/account/activities"
          : `/v2/account/activities/${encodeURIComponent(type)}`,
      query: {
        ...rest,
        ...(activity_types !== undefined && type === null
          ? { activity_types: activity_types.join(",") }
          : {}),
      },
    });
    return r.data ?? [];
  }

  /**
   * allActivities reads every page of activities of `type` (or `query.activity_types`), in the
   * query's direction, following page_token until a page comes back short.
   */
  async allActivities(type: string | null, query: ActivitiesQuery = {}): Promise<WireActivity[]> {
    const pageSize = query.page_size ?? 100;
    const out: WireActivity[] = [];
    let token = query.page_token;
    for (;;) {
      const page = await this.listActivities(type, {
        ...query,
        page_size: pageSize,
        ...(token !== undefined ? { page_token: token } : {}),
      });
      out.push(...page);
      if (page.length < pageSize) return out;
      const last = page[page.length - 1]!.id;
      if (last === token) {
        throw new TradepipeError(
          "TP_ERR_BROKER_PROTOCOL",
          `GET activities: page_token ${last} answered the same page again`,
        );
      }
      token = last;
    }
  }

  /** cancelOrder requests a cancel (204); the `canceled` trade update confirms it. */
  async cancelOrder(orderId: string): Promise<void> {
    await this.transport.request<void>({
      method: "DELETE",
      path: `/v2/orders/${encodeURIComponent(orderId)}`,
      timeouts: this.options.orderTimeouts,
    });
  }

  /** cancelAllOrders answers 207 with one `{id, status}` per open order. */
  async cancelAllOrders(): Promise<WireCanceledOrder[]> {
    const r = await this.transport.request<WireCanceledOrder[]>({
      method: "DELETE",
      path: "/v2/orders",
      timeouts: this.options.orderTimeouts,
    });
    return r.data ?? [];
  }

  /**
   * replaceOrder PATCHes an open order and returns the new one. It is never re-sent: when its
   * answer is lost and the request named a new client_order_id, the new order is looked up by
   * it; otherwise the outcome is reported as unresolved.
   */
  async replaceOrder(orderId: string, patch: ReplaceOrderRequest): Promise<WireOrder> {
    try {
      const r = await this.transport.request<WireOrder>({
        method: "PATCH",
        path: `/v2/orders/${encodeURIComponent(orderId)}`,
        body: patch,
        idempotent: false,
        timeouts: this.options.orderTimeouts,
      });
      return r.data;
    } catch (err) {
      if (!mayHaveReachedBroker(err)) throw err;
      if (patch.client_order_id !== undefined) {
        const found = await getOrderByClientOrderId(this.transport, patch.client_order_id).catch(
          () => null,
        );
        if (found !== null) return found;
      }
      throw new TradepipeError(
        "TP_ERR_BROKER_ORDER_UNRESOLVED",
        `replace of order ${orderId} may or may not have happened: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async listPositions(): Promise<WirePosition[]> {
    return (await this.transport.request<WirePosition[]>({ method: "GET", path: "/v2/positions" }))
      .data;
  }

  /** getPosition returns null when there is no open position in the symbol. */
  async getPosition(symbolOrAssetId: string): Promise<WirePosition | null> {
    try {
      const r = await this.transport.request<WirePosition>({
        method: "GET",
        path: `/v2/positions/${encodeURIComponent(symbolOrAssetId)}`,
      });
      return r.data;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return null;
      throw err;
    }
  }

  /** closePosition liquidates all (or `qty`/`percentage` of) a position with a market order. */
  async closePosition(symbolOrAssetId: string, query: ClosePositionQuery = {}): Promise<WireOrder> {
    const r = await this.transport.request<WireOrder>({
      method: "DELETE",
      path: `/v2/positions/${encodeURIComponent(symbolOrAssetId)}`,
      query: { ...query },
      // IMPORTANT: it places an order, so a lost answer must not lead to a second close.
      idempotent: false,
      timeouts: this.options.orderTimeouts,
    });
    return r.data;
  }

  async closeAllPositions(opts: { cancelOrders?: boolean } = {}): Promise<WireClosedPosition[]> {
    const r = await this.transport.request<WireClosedPosition[]>({
      method: "DELETE",
      path: "/v2/positions",
      query: { cancel_orders: opts.cancelOrders },
      idempotent: false,
      timeouts: this.options.orderTimeouts,
    });
    return r.data ?? [];
  }

  async getAsset(symbolOrAssetId: string): Promise<WireAsset> {
    const r = await this.transport.request<WireAsset>({
      method: "GET",
      path: `/v2/assets/${encodeURIComponent(symbolOrAssetId)}`,
    });
    return r.data;
  }

  async listAssets(
    query: { status?: string; asset_class?: string; exchange?: string } = {},
  ): Promise<WireAsset[]> {
    const r = await this.transport.request<WireAsset[]>({
      method: "GET",
      path: "/v2/assets",
      query: { ...query },
    });
    return r.data;
  }

  async close(): Promise<void> {
    await Promise.all([this.orderConnection?.close(), this.transport.close()]);
  }
}
