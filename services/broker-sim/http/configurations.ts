/**
 * configurations: GET and PATCH /v2/account/configurations, with Alpaca's fields and defaults
 * for a paper account. `no_shorting` takes effect (a short sale is then refused as Alpaca does
 * for a long-only account); the others are kept and echoed, as the simulator models no margin
 * tiers, PDT checks, overnight sessions, options or confirmation e-mails.
 */
import type { SimContext } from "../shell/context.ts";
import { type ApiRequest, type ApiResponse, ERR, json } from "./respond.ts";

interface Configurations {
  disable_overnight_trading: boolean;
  dtbp_check: "both" | "entry" | "exit";
  fractional_trading: boolean;
  max_margin_multiplier: string;
  max_options_trading_level: 0 | 1 | 2 | 3;
  no_shorting: boolean;
  pdt_check: string;
  ptp_no_exception_entry: boolean;
  suspend_trade: boolean;
  trade_confirm_email: string;
}

const byContext = new WeakMap<SimContext, Configurations>();

function configurationsOf(ctx: SimContext): Configurations {
  let c = byContext.get(ctx);
  if (!c) {
    c = {
      disable_overnight_trading: false,
      dtbp_check: "entry",
      fractional_trading: true,
      max_margin_multiplier: "4",
      max_options_trading_level: 0,
      no_shorting: !ctx.engine.state.options.shortingEnabled,
      pdt_check: "entry",
      ptp_no_exception_entry: false,
      suspend_trade: false,
      trade_confirm_email: "all",
    };
    byContext.set(ctx, c);
  }
  return c;
}

/** Each field's accepted values; a PATCH naming another field or value changes nothing. */
const RULES: { [K in keyof Configurations]: (v: unknown) => v is Configurations[K] } = {
  disable_overnight_trading: (v): v is boolean => typeof v === "boolean",
  dtbp_check: (v): v is Configurations["dtbp_check"] =>
    v === "both" || v === "entry" || v === "exit",
  fractional_trading: (v): v is boolean => typeof v === "boolean",
  max_margin_multiplier: (v): v is string => v === "1" || v === "2" || v === "4",
  max_options_trading_level: (v): v is Configurations["max_options_trading_level"] =>
    v === 0 || v === 1 || v === 2 || v === 3,
  no_shorting: (v): v is boolean => typeof v === "boolean",
  pdt_check: (v): v is string => v === "both" || v === "entry" || v === "exit",
  ptp_no_exception_entry: (v): v is boolean => typeof v === "boolean",
  suspend_trade: (v): v is boolean => typeof v === "boolean",
  trade_confirm_email: (v): v is string => v === "all" || v === "none",
};

export function getConfigurations(ctx: SimContext): ApiResponse {
  return json(200, configurationsOf(ctx));
}

export function patchConfigurations(ctx: SimContext, req: ApiRequest): ApiResponse {
  const body = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return ERR.invalidParam("request body must be a JSON object", 400);
  const changes: Partial<Record<keyof Configurations, unknown>> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const rule = RULES[key as keyof Configurations];
    if (!rule) return ERR.invalidParam(`unknown configuration: ${key}`);
    if (!rule(value)) return ERR.invalidParam(`invalid ${key}: ${JSON.stringify(value)}`);
    changes[key as keyof Configurations] = value;
  }
  const c = configurationsOf(ctx);
  Object.assign(c, changes);
  // The one setting the simulator acts on: a long-only account refuses short sales.
  ctx.engine.state.options.shortingEnabled = !c.no_shorting;
  ctx.shortingEnabled = !c.no_shorting;
  return json(200, c);
}
