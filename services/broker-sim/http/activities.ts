/**
 * activities: GET /v2/account/activities and /v2/account/activities/{activity_type}, as Alpaca
 * serves them: newest first unless `direction=asc`, at most `page_size` (1–100, default 100) a
 * page, the next page after the `page_token` (the last id of the previous page), filtered by
 * `after`/`until` (exclusive) or `date` (that UTC day), and by `activity_types` on the first.
 * The simulator produces FILL and FEE; every other valid type answers an empty list.
 */
import { type Activity, accountActivities } from "../core/activities.ts";
import { parseTime } from "../core/time.ts";
import type { SimContext } from "../shell/context.ts";
import { type ApiRequest, type ApiResponse, ERR, json } from "./respond.ts";

/** ACTIVITY_TYPES: Alpaca's ActivityType enum (Trading API 2.0.1). */
const ACTIVITY_TYPES = new Set(
  (
    "FILL TRANS MISC ACATC ACATS CFEE CGD CSD CSW DIV DIVCGL DIVCGS DIVFEE DIVFT DIVNRA DIVROC " +
    "DIVTW DIVTXEX FEE INT INTNRA INTTW JNL JNLC JNLS MA NC OPASN OPCA OPCSH OPEXC OPEXP OPTRD " +
    "PTC PTR REORG SPIN SPLIT FOPT"
  ).split(" "),
);

const NS_PER_DAY = 86_400_000_000_000n;

function timeParam(req: ApiRequest, name: string): bigint | null | ApiResponse {
  const v = req.query.get(name);
  if (v === null || v === "") return null;
  const t = parseTime(v);
  return t === undefined ? ERR.invalidParam(`invalid ${name}: ${JSON.stringify(v)}`) : t;
}

const isResponse = (v: unknown): v is ApiResponse =>
  typeof v === "object" && v !== null && "status" in v;

function listActivities(ctx: SimContext, req: ApiRequest, types: ReadonlySet<string>): ApiResponse {
  const q = req.query;
  const direction = q.get("direction") ?? "desc";
  if (direction !== "asc" && direction !== "desc") {
    return ERR.invalidParam(`invalid direction: ${direction}`);
  }
  const sizeText = q.get("page_size");
  const pageSize = sizeText === null ? 100 : Number(sizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    return ERR.invalidParam("page_size must be an integer between 1 and 100");
  }
  const after = timeParam(req, "after");
  if (isResponse(after)) return after;
  const until = timeParam(req, "until");
  if (isResponse(until)) return until;
  const date = timeParam(req, "date");
  if (isResponse(date)) return date;
  ctx.engine.sync();
  let list: Activity[] = accountActivities(ctx.engine.state).filter(
    (a) =>
      types.has(a.type) &&
      (after === null || a.t > after) &&
      (until === null || a.t < until) &&
      (date === null || (a.t >= date && a.t < date + NS_PER_DAY)),
  );
  if (direction === "desc") list = list.reverse();
  const token = q.get("page_token");
  if (token !== null && token !== "") {
    const at = list.findIndex((a) => a.id === token);
    if (at < 0) return ERR.invalidParam(`invalid page_token: ${JSON.stringify(token)}`);
    list = list.slice(at + 1);
  }
  return json(
    200,
    list.slice(0, pageSize).map((a) => a.body),
  );
}

/** GET /v2/account/activities?activity_types=FILL,FEE */
export function getActivities(ctx: SimContext, req: ApiRequest): ApiResponse {
  const text = req.query.get("activity_types");
  if (req.query.get("category") !== null && text !== null) {
    return ERR.invalidParam("category cannot be used with activity_types");
  }
  const category = req.query.get("category");
  let types: Set<string>;
  if (text !== null && text !== "") {
    types = new Set(text.split(",").map((t) => t.trim().toUpperCase()));
    for (const t of types)
      if (!ACTIVITY_TYPES.has(t)) return ERR.invalidParam(`invalid activity type: ${t}`);
  } else if (category === "trade_activity") {
    types = new Set(["FILL"]);
  } else if (category === "non_trade_activity") {
    types = new Set([...ACTIVITY_TYPES].filter((t) => t !== "FILL"));
  } else if (category !== null) {
    return ERR.invalidParam(`invalid category: ${category}`);
  } else {
    types = ACTIVITY_TYPES;
  }
  return listActivities(ctx, req, types);
}

/** GET /v2/account/activities/{activity_type} */
export function getActivitiesOfType(ctx: SimContext, req: ApiRequest): ApiResponse {
  const type = (req.params["activity_type"] ?? "").toUpperCase();
  if (!ACTIVITY_TYPES.has(type)) return ERR.invalidParam(`invalid activity type: ${type}`);
  return listActivities(ctx, req, new Set([type]));
}
