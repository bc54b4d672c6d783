/**
 * GET /v2/account/portfolio/history from the engine's minute samples of equity
 * (shell/equity-history.ts): `period` (nD, nW, nM, nA; default 1M), `start`/`end` (at most two
 * of the three), `timeframe` (1Min, 5Min, 15Min, 1H, 1D; by default 1Min under 7 days, 15Min
 * under 30, else 1D; intraday at most 30 days), `intraday_reporting` (market_hours, the default;
 * extended_hours, 04:00–20:00 New York; continuous) with the deprecated `extended_hours=true`,
 * and `pnl_reset` (per_day, the default: each intraday point against the previous trading day's
 * closing equity; no_reset: against the first point). Windows are left-labelled; a point is the
 * equity at the end of its window; daily points are labelled at New York midnight.
 */
import { dayOfDate, isTradingDay } from "../../core/calendar.ts";
import { type Fixed, roundTo, toNumber } from "../../core/money.ts";
import {
  etDate,
  etOffsetHours,
  isRegularSession,
  type Nanos,
  NS_PER_DAY,
  NS_PER_MIN,
  NS_PER_SEC,
  parseTime,
} from "../core/time.ts";
import type { SimContext } from "../shell/context.ts";
import { type ApiRequest, type ApiResponse, ERR, json, queryBool } from "./respond.ts";

const TIMEFRAMES: Record<string, number> = {
  "1Min": 1,
  "5Min": 5,
  "15Min": 15,
  "1H": 60,
  "1D": 1440,
};
const PERIOD_DAYS: Record<string, number> = { D: 1, W: 7, M: 30, A: 365 };

function parsePeriod(text: string): Nanos | undefined {
  const m = /^(\d+)([DWMA])$/.exec(text);
  if (!m || Number(m[1]) < 1) return undefined;
  return BigInt(Number(m[1]) * PERIOD_DAYS[m[2]!]!) * NS_PER_DAY;
}

/** New York wall-clock minutes since midnight. */
function etMinuteOfDay(t: Nanos): number {
  const sec = Number(t / NS_PER_SEC) + etOffsetHours(t) * 3600;
  return Math.floor((((sec % 86400) + 86400) % 86400) / 60);
}

function onTradingDay(t: Nanos): boolean {
  return isTradingDay(dayOfDate(etDate(t))!);
}

type Reporting = "market_hours" | "extended_hours" | "continuous";

function reported(t: Nanos, reporting: Reporting): boolean {
  if (reporting === "continuous") return true;
  if (reporting === "market_hours") return isRegularSession(t);
  const m = etMinuteOfDay(t);
  return onTradingDay(t) && m >= 4 * 60 && m < 20 * 60;
}

const dollars = (v: Fixed): number => toNumber(roundTo(v, 2));

export function getPortfolioHistory(ctx: SimContext, req: ApiRequest): ApiResponse {
  const now = ctx.engine.now();
  const q = req.query;
  const periodText = q.get("period");
  const startText = q.get("start");
  const endText = q.get("end");
  if (periodText !== null && startText !== null && endText !== null)
    return ERR.invalidParam("only two of start, end and period can be specified");
  const period = periodText === null ? undefined : parsePeriod(periodText);
  if (periodText !== null && period === undefined)
    return ERR.invalidParam(`invalid period: ${periodText}`);
  const startAt = startText === null ? undefined : parseTime(startText);
  if (startText !== null && startAt === undefined)
    return ERR.invalidParam(`invalid start: ${startText}`);
  const endAt = endText === null ? undefined : parseTime(endText);
  if (endText !== null && endAt === undefined) return ERR.invalidParam(`invalid end: ${endText}`);
  const span = period ?? 30n * NS_PER_DAY;
  const end = endAt ?? (startAt !== undefined && period !== undefined ? startAt + span : now);
  const start = startAt ?? end - span;
  if (end < start) return ERR.invalidParam("end is before start");

  const days = Number((end - start) / NS_PER_DAY);
  const timeframe = q.get("timeframe") ?? (days < 7 ? "1Min" : days < 30 ? "15Min" : "1D");
  const minutes = TIMEFRAMES[timeframe];
  if (minutes === undefined) return ERR.invalidParam(`invalid timeframe: ${timeframe}`);
  const intraday = minutes < 1440;
  if (intraday && days > 30)
    return ERR.invalidParam("intraday timeframes (below 1D) cover at most 30 days");
  const extended = queryBool(q, "extended_hours");
  if (!extended.ok) return extended.response;
  const reportingText =
    q.get("intraday_reporting") ?? (extended.value ? "extended_hours" : "market_hours");
  if (!["market_hours", "extended_hours", "continuous"].includes(reportingText))
    return ERR.invalidParam(`invalid intraday_reporting: ${reportingText}`);
  const reporting = reportingText as Reporting;
  const pnlReset = q.get("pnl_reset") ?? "per_day";
  if (pnlReset !== "per_day" && pnlReset !== "no_reset")
    return ERR.invalidParam(`invalid pnl_reset: ${pnlReset}`);

  // One point per window: the last sample in it (the equity at the window's end).
  const { times, equity } = ctx.engine.equityHistory;
  const points: { t: Nanos; label: Nanos; equity: Fixed }[] = [];
  const width = BigInt(minutes) * NS_PER_MIN;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t < start || t > end) continue;
    let label: Nanos;
    if (intraday) {
      if (!reported(t, reporting)) continue;
      label = (t / width) * width;
    } else {
      if (!onTradingDay(t)) continue;
      const date = etDate(t);
      label = BigInt(dayOfDate(date)!) * NS_PER_DAY - BigInt(etOffsetHours(t)) * 3600n * NS_PER_SEC;
    }
    const last = points[points.length - 1];
    if (last && last.label === label) {
      last.equity = equity[i]!;
      last.t = t;
    } else {
      points.push({ t, label, equity: equity[i]! });
    }
  }

  // Each point's base: the previous trading day's closing equity (per_day, intraday), else the
  // first point's equity.
  const bases: Fixed[] = [];
  let baseAsOf: string | undefined;
  if (intraday && pnlReset === "per_day") {
    let j = 0;
    let lastBefore: { date: string; equity: Fixed } | undefined;
    for (const p of points) {
      const date = etDate(p.t);
      while (j < times.length && etDate(times[j]!) < date) {
        lastBefore = { date: etDate(times[j]!), equity: equity[j]! };
        j += 1;
      }
      bases.push(lastBefore?.equity ?? points.find((x) => etDate(x.t) === date)!.equity);
      baseAsOf = lastBefore?.date;
    }
  } else {
    for (const _ of points) bases.push(points[0]!.equity);
  }
  const baseValue = bases[bases.length - 1];
  return json(200, {
    timestamp: points.map((p) => Number(p.label / NS_PER_SEC)),
    equity: points.map((p) => dollars(p.equity)),
    profit_loss: points.map((p, i) => dollars(p.equity - bases[i]!)),
    profit_loss_pct: points.map((p, i) =>
      bases[i]! === 0n
        ? 0
        : Number((toNumber(p.equity - bases[i]!) / toNumber(bases[i]!)).toFixed(6)),
    ),
    base_value:
      baseValue === undefined ? dollars(ctx.engine.state.options.startingCash) : dollars(baseValue),
    ...(baseAsOf !== undefined ? { base_value_asof: baseAsOf } : {}),
    timeframe,
  });
}
