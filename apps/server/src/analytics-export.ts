// issue 17, item 7: the journey analytics tables as CSV, for spreadsheets.
//
//   GET /exports/journeys/:journeyId/analytics/steps.csv[?versionId=…]
//        one row per step (and one per A/B variant of a step), every version added up unless a
//        version is asked for: entered, waiting now, sent, delivered, failed, opens and clicks
//        (total and unique, with rates of delivered), conversions, revenue, revenue per recipient
//   GET /exports/journeys/:journeyId/analytics/daily.csv?from=YYYY-MM-DD&to=YYYY-MM-DD
//        one row per day: entries, sends, conversions, revenue
//
// Signed in with the web app's session cookie, any role (figures, no customer data). A journey of
// another workspace is 404, like one that does not exist; bad dates are 400 naming the field. The
// figures are the analytics tab's (read from the rollups), the attribution rule is the file's
// last line. Cells that spreadsheets would run as formulas get a leading ' (csv-stringify's
// `escape_formulas`); UTF-8 with a byte-order mark for Excel.
import { readCookie, SESSION_COOKIE, userForSession } from "@postpath/api";
import type { Database } from "@postpath/db";
import {
  ATTRIBUTION_RULE,
  daysInRange,
  journeyDailyFigures,
  journeyStepFigures,
  type DependencyMonitor,
  type StepFigures,
} from "@postpath/engine";
import { stringify } from "csv-stringify/sync";
import type { FastifyInstance, FastifyReply } from "fastify";
import { sendUnavailable } from "./health.ts";

export interface AnalyticsExportOptions {
  db: Database;
  monitor: DependencyMonitor;
}

const MAX_DAYS = 366;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const validDay = (s: unknown): s is string =>
  typeof s === "string" &&
  DAY.test(s) &&
  Number(s.slice(0, 4)) >= 1900 &&
  !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
  new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

const rate = (n: number, of: number) => (of > 0 ? (n / of).toFixed(4) : "");
const money = (n: number) => n.toFixed(2);

const STEP_HEADER = [
  "step",
  "kind",
  "variant",
  "entered",
  "waiting_now",
  "sent",
  "delivered",
  "failed",
  "opened",
  "unique_opens",
  "open_rate",
  "clicked",
  "unique_clicks",
  "click_rate",
  "conversions",
  "conversion_rate",
  "revenue",
  "revenue_per_recipient",
];

function stepRows(steps: StepFigures[]): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const s of steps) {
    const row = (
      variant: string,
      f: Omit<
        StepFigures,
        | "stepId"
        | "name"
        | "kind"
        | "type"
        | "variants"
        | "converted"
        | "revenuePerRecipient"
        | "waitingNow"
        | "movedIn"
        | "movedOut"
      >,
      waiting: number | "",
    ) => [
      s.name,
      s.kind,
      variant,
      f.entered,
      waiting,
      f.sent,
      f.delivered,
      f.failed,
      f.opened,
      f.uniqueOpens,
      rate(f.uniqueOpens, f.delivered),
      f.clicked,
      f.uniqueClicks,
      rate(f.uniqueClicks, f.delivered),
      f.conversions,
      rate(f.conversions, f.entered),
      money(f.revenue),
      f.entered > 0 ? money(f.revenue / f.entered) : "",
    ];
    rows.push(row("All", s, s.waitingNow));
    for (const v of s.variants) rows.push(row(v.variant, v, ""));
  }
  return rows;
}

function csv(header: string[], rows: (string | number)[][]): string {
  const body = stringify([header, ...rows], { escape_formulas: true, record_delimiter: "\r\n" });
  const note = stringify([[`Attribution: ${ATTRIBUTION_RULE}`]], { record_delimiter: "\r\n" });
  return `\uFEFF${body}\r\n${note}`;
}

export function registerAnalyticsExport(app: FastifyInstance, opts: AnalyticsExportOptions): void {
  const base = "/exports/journeys/:journeyId/analytics";

  async function user(cookie: string | undefined, reply: FastifyReply) {
    if (opts.monitor.down() === "postgres") {
      sendUnavailable(reply, "postgres");
      return null;
    }
    const u = await userForSession(opts.db, readCookie(cookie, SESSION_COOKIE));
    if (!u) await reply.code(401).send({ error: "Sign in to Postpath to export analytics." });
    return u;
  }
  const send = (reply: FastifyReply, name: string, text: string) =>
    reply
      .header("cache-control", "no-store")
      .header("content-disposition", `attachment; filename="${name}"`)
      .type("text/csv; charset=utf-8")
      .send(text);
  const NOT_FOUND = { error: "This journey does not exist in your workspace." };

  app.get<{ Params: { journeyId: string }; Querystring: { versionId?: unknown } }>(
    `${base}/steps.csv`,
    async (req, reply) => {
      const u = await user(req.headers.cookie, reply);
      if (!u) return reply;
      const versionId = req.query.versionId;
      if (versionId !== undefined && (typeof versionId !== "string" || versionId.length > 100))
        return reply.code(400).send({ error: "versionId: give one version id." });
      const found = await journeyStepFigures(
        opts.db,
        u.workspaceId,
        req.params.journeyId.slice(0, 100),
        versionId,
      );
      if (!found) return reply.code(404).send(NOT_FOUND);
      const steps = versionId ? (found.versions[0]?.steps ?? []) : found.all;
      const label = versionId ? `v${found.versions[0]?.version ?? ""}` : "all-versions";
      return send(reply, `journey-steps-${label}.csv`, csv(STEP_HEADER, stepRows(steps)));
    },
  );

  app.get<{ Params: { journeyId: string }; Querystring: { from?: unknown; to?: unknown } }>(
    `${base}/daily.csv`,
    async (req, reply) => {
      const u = await user(req.headers.cookie, reply);
      if (!u) return reply;
      const { from, to } = req.query;
      if (!validDay(from))
        return reply
          .code(400)
          .send({ error: "from: a date in the calendar, written as YYYY-MM-DD." });
      if (!validDay(to))
        return reply
          .code(400)
          .send({ error: "to: a date in the calendar, written as YYYY-MM-DD." });
      const days = daysInRange(from, to);
      if (days < 1) return reply.code(400).send({ error: "to: must be on or after from." });
      if (days > MAX_DAYS)
        return reply.code(400).send({ error: `to: choose at most ${MAX_DAYS} days.` });
      const found = await journeyDailyFigures(
        opts.db,
        u.workspaceId,
        req.params.journeyId.slice(0, 100),
        {
          from,
          to,
        },
      );
      if (!found) return reply.code(404).send(NOT_FOUND);
      return send(
        reply,
        `journey-daily-${from}-${to}.csv`,
        csv(
          ["day", "entries", "sends", "conversions", "revenue"],
          found.map((d) => [d.day, d.entries, d.sends, d.conversions, money(d.revenue)]),
        ),
      );
    },
  );
}
