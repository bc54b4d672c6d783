/**
 * broker carries out the core's broker commands over the Alpaca client and hands every answer
 * back as a core event. It uses the client's single-POST `postOrder` (never `submitOrder`):
 * the core owns the resolution state machine (ResolveOrder after an ambiguous failure, retries
 * with the same client_order_id), so the client must not look up or re-send on its own, or the
 * two would double up.
 */
import type { AlpacaTradingClient } from "../alpaca-client/index.ts";
import { BrokerHttpError, classifySendFailure } from "../alpaca-client/index.ts";
import { orderSentChannel } from "./channels.ts";
import type { CancelOrder, ExecutionEvent, SendOrder } from "./core/index.ts";
import { faultPoint } from "./fault-points.ts";
import { orderRequestBody, snapshotOf } from "./wire.ts";

export interface BrokerCalls {
  send(cmd: SendOrder, intentEventTimeNs: bigint): void;
  resolve(clientOrderId: string): void;
  cancel(cmd: CancelOrder): void;
  /** inFlight counts calls whose answers have not been delivered yet. */
  readonly inFlight: number;
}

export interface BrokerCallsDeps {
  trading: AlpacaTradingClient;
  nowNs(): bigint;
  /** deliver feeds an answer back into the core (through the shell's serial queue). */
  deliver(event: ExecutionEvent): void;
  /** onSent: the POST of `clientOrderId` left (for latency metrics). */
  onSent(clientOrderId: string): void;
  /** onLookupFailed: a lookup could not be made; the shell retries it later. */
  onLookupFailed(clientOrderId: string, err: Error): void;
}

/** createBrokerCalls binds the three broker commands to one trading client. */
export function createBrokerCalls(deps: BrokerCallsDeps): BrokerCalls {
  const { trading, nowNs, deliver } = deps;
  let inFlight = 0;
  const settle = () => {
    inFlight--;
  };

  const lookup = (clientOrderId: string) => {
    inFlight++;
    trading
      .getOrderByClientOrderId(clientOrderId)
      .then(
        (o) =>
          deliver({
            type: "OrderResolved",
            timeNs: nowNs(),
            clientOrderId,
            order: o === null ? null : snapshotOf(o),
          }),
        (err: unknown) => deps.onLookupFailed(clientOrderId, err as Error),
      )
      .finally(settle);
  };

  return {
    get inFlight() {
      return inFlight;
    },
    send(cmd, intentEventTimeNs) {
      const body = orderRequestBody(cmd.request);
      inFlight++;
      // postOrder writes the request on an idle dedicated order connection before it returns
      // (services/alpaca-client, "The dedicated order connection"); with none idle it goes
      // through undici, which writes it one event-loop turn later.
      const reply = trading.postOrder(body);
      deps.onSent(body.client_order_id);
      if (orderSentChannel.hasSubscribers) {
        orderSentChannel.publish({
          clientOrderId: body.client_order_id,
          symbol: body.symbol,
          intentEventTimeNs,
        });
      }
      reply
        .then(
          (o) => {
            faultPoint("after_broker_answer");
            deliver({
              type: "SendSucceeded",
              timeNs: nowNs(),
              clientOrderId: body.client_order_id,
              order: snapshotOf(o),
            });
          },
          (err: unknown) => {
            const f = classifySendFailure(err);
            deliver({
              type: "SendFailed",
              timeNs: nowNs(),
              clientOrderId: body.client_order_id,
              failure: f.failure,
              httpStatus: f.httpStatus,
              message: f.message,
            });
          },
        )
        .finally(settle);
    },
    resolve: lookup,
    cancel(cmd) {
      inFlight++;
      const cancelled = (async () => {
        let id = cmd.brokerOrderId;
        if (id === null) {
          const found = await trading.getOrderByClientOrderId(cmd.clientOrderId);
          if (found === null) throw new Error("the broker has no such order to cancel");
          id = found.id;
        }
        await trading.cancelOrder(id);
      })();
      cancelled
        .catch((err: unknown) => {
          const message =
            err instanceof BrokerHttpError
              ? `${err.status} ${err.alpacaMessage ?? err.message}`
              : (err as Error).message;
          deliver({
            type: "CancelFailed",
            timeNs: nowNs(),
            clientOrderId: cmd.clientOrderId,
            message,
          });
        })
        .finally(settle);
    },
  };
}
