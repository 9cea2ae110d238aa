// Action: create a personalised URL (and QR code) for a landing page. Params are rendered here;
// the engine answers with `url` (and `qrUrl`), which later templates see as `purl.url`.
import { z } from "zod";
import { TemplateError, stepTemplateRenderer, templateContext } from "../templating.ts";
import { boundedDuration, durationMs } from "../time.ts";
import { actionBranches, actionFields, handleResult } from "./action-common.ts";
import { type CheckIssue, type Catalog, defineStep } from "./module.ts";

export const ActionPurlConfig = z.object({
  /** The landing page (slug) the URL opens. */
  page: z.string().trim().min(1, { error: "Choose the landing page." }),
  /** Values the page is personalised with (Liquid templates). */
  params: z.record(z.string().trim().min(1), z.string()).default({}),
  qr: z.boolean().default(true),
  expiresIn: boundedDuration("a personal URL's validity").nullable().default(null),
  as: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "Use letters, digits and _ only." })
    .default("purl"),
  ...actionFields,
});
export type ActionPurlConfig = z.infer<typeof ActionPurlConfig>;

/** What later templates read under the step's name: `{{ purl.url }}`, `{{ purl.qrUrl }}`. */
const PURL_FIELDS = ["url", "qrUrl", "token", "page"] as const;
const PURL_FIELDS_WITHOUT_QR = ["url", "token", "page"] as const;

/** issue 16: a page the workspace does not have, or has not published, is a warning. */
export function pageIssues(page: string, catalog: Catalog): CheckIssue[] {
  if (!catalog.pages || page === "") return [];
  const known = Object.hasOwn(catalog.pages, page) ? catalog.pages[page] : undefined;
  if (known?.published) return [];
  return [
    {
      code: known ? "purl.page_unpublished" : "purl.unknown_page",
      severity: "warning",
      field: "page",
      message: known
        ? `The page “${known.name}” is not published yet: its links open “This link has expired” until it is.`
        : `No landing page has the address “${page}”: its links open “This link has expired”. Create and publish it in Pages, or choose another page.`,
    },
  ];
}

export default defineStep<ActionPurlConfig>({
  type: "action.purl",
  family: "action",
  label: "Personal URL / QR",
  schema: ActionPurlConfig,
  defaults: { page: "", params: {}, qr: true },
  branches: actionBranches,
  check: (c, ctx) => pageIssues(c.page, ctx.catalog),
  templates: (c) =>
    Object.entries(c.params).map(([k, v]) => ({ field: `params.${k}`, template: v })),
  // The engine's output (engine outputs.ts createPurl): no QR image without `qr`.
  provides: (c) => [
    { name: c.as, on: ["next"], fields: c.qr ? PURL_FIELDS : PURL_FIELDS_WITHOUT_QR },
  ],
  enter: (env) => {
    const c = env.config;
    const context = templateContext(env.state);
    const render = stepTemplateRenderer();
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(
        Object.entries(c.params).map(([k, v]) => [k, render(v, context, `params.${k}`)]),
      );
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      // The step fails as if the link could not be made: its on-error policy applies.
      return handleResult(
        env,
        { ok: false, error: `The value of ${err.field} ${err.detail}.` },
        "purl",
      );
    }
    return {
      kind: "await",
      effect: {
        kind: "createPurl",
        stepId: env.step.id,
        page: c.page,
        params,
        qr: c.qr,
        expiresAt: c.expiresIn ? env.now + durationMs(c.expiresIn) : null,
      },
      decision: "purl.requested",
      detail: { page: c.page, params },
    };
  },
  result: (env, result) => handleResult(env, result, "purl", env.config.as),
});
