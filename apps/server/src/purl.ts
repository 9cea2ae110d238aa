// Landing pages (issue 14; the engine issue made the bare version). GET /p/:token renders the
// published page whose slug the PURL names — the version live when the link is opened, so a link
// mailed before a re-publish shows the new version — personalised with Liquid over the customer,
// the PURL's params (`purl.*`) and the run's earlier outputs (`coupon.code`…), and records the
// visit. Forms post to /p/:token/forms/:formId (CSRF token, honeypot, rate limits, size limit,
// zod per field, one submission per idempotency key → one `form_submitted` event); the thank-you
// page /p/:token/thanks/:formId waits (bounded) for the journey's coupon. GET /p/:token/qr.png is
// the QR code of the link.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createQrCode } from "@postpath/channels";
import {
  recordFormConsent,
  track,
  randomBase64url,
  randomHex,
  visitPurl,
  type EngineContext,
  type PurlVisit,
  type Keyring,
} from "@postpath/engine";
import {
  CustomerSnapshot,
  formsOf,
  isFinished,
  PageRootProps,
  parseRunState,
  RUN_STATUSES,
  stepTemplateRenderer,
  submissionSchema,
  templateContext,
  walkBlocks,
  type FormProps,
  type RunState,
} from "@postpath/journey";
import {
  PAGE_CSS,
  TEMPLATED_PROPS,
  URL_PROPS,
  pageElement,
  renderForgiving,
  type FormRuntime,
} from "@postpath/pages";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { renderToStaticMarkup } from "react-dom/server";
import { limiterRedis } from "./ingest.ts";
import {
  compileSkeleton,
  compileSkeletonInTurns,
  fillSkeleton,
  type PageSkeleton,
  type SlotKind,
} from "./page-skeleton.ts";

/** Most bytes a form post may have. */
export const FORM_BODY_LIMIT = 16 * 1024;
/** Form posts per minute: from one IP address, and to one personal link. */
export const FORM_RATE = { perIp: 30, perToken: 10, windowMs: 60_000 } as const;
/** How long the thank-you page waits for the journey to issue what it shows (coupon code). */
export const THANKS_WAIT_MS = 3000;
const THANKS_POLL_MS = 150;

export const FORM_SUBMITTED = "form_submitted";
/** Published page documents kept in memory per server process (immutable, by version id). */
const DOCUMENT_CACHE = 200;
/**
 * The address of a workspace's own "link expired" page: a known but expired link shows it when it
 * is published (not personalised; its forms — e.g. one asking for the serial — still post for
 * that customer), else the built-in expired page.
 */
export const EXPIRED_PAGE_SLUG = "link-expired";

type Ctx = Record<string, unknown>;
type Doc = { content: unknown[]; root: { props: Record<string, unknown> } };

export interface PurlOptions {
  engine: EngineContext;
  keyring?: Keyring;
}

/**
 * A Liquid renderer for one page: one shared time budget; a failing part renders as nothing.
 * With the page's document, its output-only templates (`{{ … }}` and text, no `{% … %}` tags: no
 * side effects, nothing shared between them) are rendered first in one Liquid call, joined by a
 * separator no template or customer value holds (NUL and this process's random hex), and each
 * answered from that; when the combined call fails or does not split into one part per template
 * (a template's tag running into the next), each renders alone as before. One Liquid render per
 * page instead of one per text: bench/landing-page's page has 7 (74 → 38 µs of CPU, timed alone).
 */
export function pageRenderer(context: Ctx, doc?: Doc): (template: string, field: string) => string {
  const render = stepTemplateRenderer();
  const one = (template: string, field: string) =>
    renderForgiving((t, f) => render(t, context, f), template, field);
  const done = doc ? renderJoined(doc, (t) => render(t, context, "page")) : null;
  return done ? (template, field) => done.get(template) ?? one(template, field) : one;
}

/** The document's output-only templates rendered in one call, or null (see pageRenderer). */
export function renderJoined(
  doc: Doc,
  render: (template: string) => string,
): Map<string, string> | null {
  const joined = templatesOf(doc);
  if (!joined) return null;
  let parts: string[];
  try {
    parts = render(joined.template).split(TEMPLATE_SEPARATOR);
  } catch {
    return null;
  }
  return parts.length === joined.list.length
    ? new Map(joined.list.map((t, i) => [t, parts[i]!]))
    : null;
}

/**
 * A form's idempotency key for the page drawn (16 random bytes): from the engine's pooled random
 * bytes, since a `randomBytes` call per page cost ~2 µs (the bytes are the same CSPRNG's).
 */
const formKey = () => randomBase64url(16);

const TEMPLATE_SEPARATOR = `\u0000${randomBytes(12).toString("hex")}\u0000`;
/** Per document: its distinct output-only templates and their combined template (null: < 2). */
const joinedTemplates = new WeakMap<Doc, { list: string[]; template: string } | null>();
export function templatesOf(doc: Doc): { list: string[]; template: string } | null {
  let joined = joinedTemplates.get(doc);
  if (joined === undefined) {
    const list = new Set<string>();
    const note = (t: string) => {
      if (t.includes("{") && !t.includes("{%") && !t.includes(TEMPLATE_SEPARATOR)) list.add(t);
      return t;
    };
    personalise(doc, note);
    for (const form of formsOfDocument(doc)) for (const f of form.fields) note(f.prefill);
    joined =
      list.size > 1 ? { list: [...list], template: [...list].join(TEMPLATE_SEPARATOR) } : null;
    joinedTemplates.set(doc, joined);
  }
  return joined;
}

/** The document with its Liquid resolved (a deep copy; the stored version is never touched). */
function personalise(doc: Doc, render: (t: string, field: string) => string): Doc {
  const block = (raw: unknown): unknown => {
    if (!raw || typeof raw !== "object") return raw;
    const b = raw as { type?: unknown; props?: Record<string, unknown> };
    if (typeof b.type !== "string" || !b.props) return raw;
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b.props)) {
      if (typeof v === "string" && TEMPLATED_PROPS[b.type]?.includes(k))
        props[k] = render(v, `${b.type}.${k}`);
      else if (Array.isArray(v) && v.every((x) => x && typeof x === "object" && "type" in x))
        props[k] = v.map(block); // slots (columns)
      else props[k] = v;
    }
    return { ...b, props };
  };
  const rootProps = { ...doc.root.props };
  if (typeof rootProps["title"] === "string")
    rootProps["title"] = render(rootProps["title"], "title");
  return { ...doc, content: doc.content.map(block), root: { ...doc.root, props: rootProps } };
}

/** Per stored document: whether its root props other than the title are valid (PageRootProps). */
const rootValid = new WeakMap<Doc, boolean>();
const TITLE_MAX = PageRootProps.shape.title.unwrap().maxLength ?? Infinity;
/**
 * The page's `<title>`: its personalised title, or the slug when that is empty or the root props
 * are not valid — what `PageRootProps.safeParse(props)` of the personalised root props decided,
 * without a zod parse per page: the props other than the title (not personalised) are checked once
 * per stored document, the title by hand (text of at most 500 characters; a longer one by zod).
 */
export function pageTitle(stored: Doc, title: unknown, slug: string): string {
  let valid = rootValid.get(stored);
  if (valid === undefined) {
    valid = PageRootProps.safeParse({ ...stored.root.props, title: undefined }).success;
    rootValid.set(stored, valid);
  }
  if (!valid || typeof title !== "string") return slug;
  // Within the limit in UTF-16 units is within it in code points (what zod counts); a longer
  // title is zod's to decide.
  const fits = title.length <= TITLE_MAX || PageRootProps.shape.title.safeParse(title).success;
  return fits ? title || slug : slug;
}

/** A run state for a PURL whose run has none yet (or cannot be read). */
function emptyState(runId: string, customer: CustomerSnapshot): RunState {
  return {
    runId,
    status: "active",
    stepId: "",
    entered: true,
    enteredAt: null,
    waitUntil: null,
    parkedFor: null,
    held: false,
    trigger: null,
    customer,
    outputs: {},
    vars: {},
    converted: false,
    conversion: null,
    endedAt: null,
    exitReason: null,
    stepsRun: 0,
  };
}

/** The forms of a document, parsed once per document object (cached documents are shared). */
const parsedForms = new WeakMap<Doc, ReturnType<typeof formsOf>>();
function formsOfDocument(doc: Doc): ReturnType<typeof formsOf> {
  let forms = parsedForms.get(doc);
  if (!forms) {
    forms = formsOf(doc);
    parsedForms.set(doc, forms);
  }
  return forms;
}

/** Whether any coupon card of the (personalised) document has no code yet. */
function couponPending(doc: Doc): boolean {
  let pending = false;
  walkBlocks(doc.content, (b) => {
    if (b.type === "CouponCard" && typeof b.props["code"] === "string" && !b.props["code"].trim())
      pending = true;
  });
  return pending;
}

/** What a form's runtime takes from the visit: where it posts, its tokens, what was typed. */
type FormParts = {
  action: string;
  csrf: string;
  key: string;
  own?: { values: Record<string, string | boolean>; errors: Record<string, string> } | undefined;
};

/**
 * The runtime of each form of a stored document: pre-fills rendered by `render` (a checkbox is
 * ticked by "true", "yes", "on" or "1"), or what was typed and its errors (`own`).
 */
export function formRuntimes(
  stored: Doc,
  render: (template: string, field: string) => string,
  partsOf: (formId: string) => FormParts,
): Record<string, FormRuntime> {
  const forms: Record<string, FormRuntime> = {};
  for (const form of formsOfDocument(stored)) {
    const { action, csrf, key, own } = partsOf(form.formId);
    const values: Record<string, string | boolean> = {};
    for (const f of form.fields)
      values[f.name] =
        f.type === "checkbox"
          ? own
            ? own.values[f.name] === true
            : ["true", "yes", "on", "1"].includes(
                render(f.prefill, `${form.formId}.${f.name}`).trim().toLowerCase(),
              )
          : own
            ? String(own.values[f.name] ?? "")
            : render(f.prefill, `${form.formId}.${f.name}`);
    if (own && form.consent.enabled) values["consent"] = own.values["consent"] === true;
    forms[form.formId] = { action, csrf, key, values, errors: own?.errors ?? {} };
  }
  return forms;
}

/**
 * The `<body>` markup of a stored page for a visit (`render`: its Liquid; `forms`: its forms'
 * runtimes): from the document's skeleton when `skeleton` is set, it has one and the values fit
 * it, else drawn by React — the same markup either way (purl-skeleton.test.ts).
 */
export function pageBody(
  stored: Doc,
  render: (template: string, field: string) => string,
  forms: Record<string, FormRuntime>,
  opts: { skeleton: boolean; personalised?: () => Doc },
): string {
  const compiled = opts.skeleton ? readySkeleton(stored) : null;
  const filled =
    compiled &&
    fillSkeleton(
      compiled.skeleton,
      compiled.slots.map((slot) =>
        slot.kind === "template"
          ? render(slot.template, slot.field)
          : forms[slot.formId]![slot.part],
      ),
    );
  if (filled != null) return filled;
  const doc = opts.personalised ? opts.personalised() : personalise(stored, render);
  return renderToStaticMarkup(pageElement(doc, { forms }));
}

/** A personal string of a page: a Liquid template's output, or a part of a form's runtime. */
type Slot =
  | { kind: "template"; template: string; field: string }
  | { kind: "form"; formId: string; part: "action" | "csrf" | "key" };

type Compiled = { slots: Slot[]; skeleton: PageSkeleton };
/** Per stored document: its slots and skeleton, or null (drawn by React on every visit). */
const skeletons = new WeakMap<Doc, Compiled | null>();
/** Documents whose skeleton is being compiled in turns. */
const compiling = new WeakSet<Doc>();

/**
 * The skeleton of a stored document (page-skeleton.ts), compiled now if it was not. None when a
 * template is a web address (a block draws it only when `safeUrl` accepts it) or a checkbox's or
 * select's pre-fill (compared with the choices): those values decide what is drawn, which probes
 * cannot cover.
 */
export function skeletonOf(stored: Doc): Compiled | null {
  let compiled = skeletons.get(stored);
  if (compiled === undefined) {
    const plan = planOf(stored);
    compiled = null;
    try {
      compiled = plan && withSkeleton(plan, compileSkeleton(plan.kinds, plan.draw));
    } catch {
      // A block failed to draw a probe: no skeleton, as compileSkeletonInTurns's rejection.
    }
    skeletons.set(stored, compiled);
  }
  return compiled;
}

/**
 * The skeleton when it is compiled; else null, and it is compiled in turns meanwhile (the visits
 * until then are drawn by React): probing a page takes tens of milliseconds of React draws, which
 * must not hold up the visits of other pages.
 */
export function readySkeleton(stored: Doc): Compiled | null {
  const compiled = skeletons.get(stored);
  if (compiled !== undefined) return compiled;
  if (!compiling.has(stored)) {
    compiling.add(stored);
    const plan = planOf(stored);
    const done = (c: Compiled | null) => {
      skeletons.set(stored, c);
      compiling.delete(stored);
    };
    if (!plan) done(null);
    else
      void compileSkeletonInTurns(plan.kinds, plan.draw).then(
        (s) => done(withSkeleton(plan, s)),
        () => done(null),
      );
  }
  return null;
}

/** planDocument, or null when it throws (no skeleton: drawn by React on every visit). */
function planOf(stored: Doc): ReturnType<typeof planDocument> {
  try {
    return planDocument(stored);
  } catch {
    return null;
  }
}

const withSkeleton = (plan: { slots: Slot[] }, skeleton: PageSkeleton | null): Compiled | null =>
  skeleton && { slots: plan.slots, skeleton };

/** A stored document's slots and how React draws it with given slot values; null: no skeleton. */
function planDocument(stored: Doc): {
  slots: Slot[];
  kinds: SlotKind[];
  draw: (values: readonly string[]) => string;
} | null {
  const slots: Slot[] = [];
  const index = new Map<string, number>();
  let decides = false;
  const note = (template: string, field: string) => {
    if (!template.includes("{")) return template;
    if (URL_PROPS.has(field)) decides = true;
    if (!index.has(template)) {
      index.set(template, slots.length);
      slots.push({ kind: "template", template, field });
    }
    return template;
  };
  personalise(stored, note);
  const forms = formsOfDocument(stored);
  for (const form of forms)
    for (const f of form.fields) {
      if ((f.type === "checkbox" || f.type === "select") && f.prefill.includes("{")) decides = true;
      note(f.prefill, `${form.formId}.${f.name}`);
    }
  if (decides) return null;
  const formSlot = new Map<string, number>();
  for (const form of forms)
    for (const part of ["action", "csrf", "key"] as const) {
      formSlot.set(`${form.formId}\n${part}`, slots.length);
      slots.push({ kind: "form", formId: form.formId, part });
    }
  const kinds = slots.map((s): SlotKind =>
    s.kind === "template" ? "text" : s.part === "action" ? "path" : "token",
  );
  const draw = (values: readonly string[]) => {
    // The same templates give the same text (a page's renderer answers per template).
    const render = (t: string) => (t.includes("{") ? values[index.get(t)!]! : t);
    const part = (formId: string, p: string) => values[formSlot.get(`${formId}\n${p}`)!]!;
    const runtimes = formRuntimes(stored, render, (formId) => ({
      action: part(formId, "action"),
      csrf: part(formId, "csrf"),
      key: part(formId, "key"),
    }));
    return renderToStaticMarkup(pageElement(personalise(stored, render), { forms: runtimes }));
  };
  return { slots, kinds, draw };
}

const SECURITY_HEADERS = {
  "cache-control": "private, no-store",
  // The token is in the URL: never send it to an image host or a linked site.
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

function htmlDocument(title: string, body: string, css = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${PAGE_CSS}${css}</style></head><body>${body}</body></html>`;
}

/** A CSS string literal: quotes, backslashes, line breaks and `<` (no `</style>`) escaped. */
const cssString = (s: string) =>
  `"${s.replace(/["\\<\n\r]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;

/**
 * "Form started" without a script: the page's own stylesheet asks for a same-origin image when a
 * field of the form first takes the focus (`:focus-within`), drawn outside the form's box.
 */
function formStartCss(action: string, beacon: string): string {
  return `form[action=${cssString(action)}]:focus-within{background-image:url(${cssString(beacon)});background-repeat:no-repeat;background-size:1px 1px;background-position:-10px -10px}`;
}

/** A 1×1 transparent GIF: the answer to the form-start image. */
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(SECURITY_HEADERS).type("text/html; charset=utf-8").send(html);
}

/** A plain branded message page (expired link, thank you, form expired). */
function messagePage(title: string, text: string): string {
  return htmlDocument(
    title,
    `<main class="pp-page pp-message"><h1 class="pp-heading">${escapeHtml(title)}</h1><div class="pp-text"><p>${escapeHtml(text)}</p></div></main>`,
  );
}

const EXPIRED = messagePage(
  "This link has expired",
  "The personal link you opened is unknown or no longer valid. If you received it by post or email, please contact us and we will send you a new one.",
);

/**
 * What a page's Liquid sees (as messages do: templateContext over the run's state, the customer as
 * stored now) plus `purl` (the link's params, token and url) and `params`. The PURL's run comes
 * first, then runs a form submission started (their outputs win); a state this version cannot
 * read is left out. What Postgres returned is read as CustomerSnapshot / RunState without
 * re-parsing it with zod when it already has their shape (readCustomer / readRunState: the same
 * values, sub-objects shared instead of copied); anything else goes through the zod parse as before.
 */
export function pageContext(
  purl: Pick<PurlRow, "token" | "runId" | "customerId" | "params">,
  customer: PurlVisit["customer"] | null,
  runs: { id: string; state: unknown }[],
  extraRunIds: string[],
  publicBase: string,
): Ctx {
  const snapshot = readCustomer(
    customer ?? { id: purl.customerId, externalId: "", attributes: {}, tags: [] },
  );
  let vars: Record<string, unknown> = {};
  let base: RunState | null = null;
  for (const id of [purl.runId, ...extraRunIds]) {
    const row = runs.find((r) => r.id === id);
    if (!row?.state) continue;
    try {
      const state = readRunState(row.state);
      base ??= state;
      vars = { ...vars, ...state.vars };
    } catch {
      // A state this version cannot read: personalise without it.
    }
  }
  const state: RunState = {
    ...(base ?? emptyState(purl.runId, snapshot)),
    customer: snapshot,
    vars,
  };
  // templateContext's object is new: `purl` and `params` are set on it (where a variable of that
  // name already sits, else last — the key order of the `{ ...ctx, purl, params }` it replaces).
  const ctx = templateContext(state);
  const purlVar = ctx["purl"] && typeof ctx["purl"] === "object" ? ctx["purl"] : {};
  const link = { token: purl.token, url: `${publicBase}/p/${purl.token}` };
  // `{ ...purlVar, ...params, ...link }`; Object.assign gives the same (~1.5 µs less than two
  // spreads) unless a source has an own `__proto__` key, which assignment would take as the
  // prototype.
  ctx["purl"] =
    Object.hasOwn(purlVar, "__proto__") || Object.hasOwn(purl.params, "__proto__")
      ? { ...purlVar, ...purl.params, ...link }
      : Object.assign({}, purlVar, purl.params, link);
  ctx["params"] = purl.params;
  return ctx;
}

// ---- reading stored JSON without a zod parse when it has the schema's shape ---------------------
// Each check below accepts only what the zod schema accepts (journey state.ts); when unsure it says
// no and the zod parse decides (and throws) exactly as before. Records with an own `__proto__` key
// (which zod drops) and anything not plain JSON take the zod path.

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype &&
  !Object.hasOwn(v, "__proto__");
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const nullOr = (v: unknown, is: (v: unknown) => boolean) => v === null || is(v);
const nullish = (v: unknown, is: (v: unknown) => boolean) => v === null || v === undefined || is(v);
const strings = (v: unknown) => Array.isArray(v) && v.every(isStr);

/** The keys of CustomerSnapshot and RunState the checks know (a test compares with the schemas). */
export const SHAPE_CHECKED = {
  customer: [
    "id",
    "externalId",
    "email",
    "phone",
    "timezone",
    "attributes",
    "tags",
    "segments",
    "lifecycleStage",
  ],
  runState: [
    "runId",
    "status",
    "stepId",
    "entered",
    "enteredAt",
    "waitUntil",
    "parkedFor",
    "held",
    "trigger",
    "customer",
    "outputs",
    "vars",
    "converted",
    "conversion",
    "endedAt",
    "exitReason",
    "stepsRun",
    "consumed",
  ],
} as const;

function isCustomerSnapshot(c: unknown): c is CustomerSnapshot {
  return (
    isRecord(c) &&
    isStr(c["id"]) &&
    isStr(c["externalId"]) &&
    nullish(c["email"], isStr) &&
    nullish(c["phone"], isStr) &&
    nullish(c["timezone"], isStr) &&
    isRecord(c["attributes"]) &&
    strings(c["tags"]) &&
    (c["segments"] === undefined || strings(c["segments"])) &&
    nullish(c["lifecycleStage"], isStr)
  );
}

const STATUSES: ReadonlySet<unknown> = new Set(RUN_STATUSES);
const isOutputs = (v: unknown) => isRecord(v) && Object.values(v).every(isRecord);
const isParkedFor = (v: unknown) =>
  isRecord(v) &&
  isStr(v["event"]) &&
  nullOr(v["correlation"], (c) => isRecord(c) && isStr(c["property"]));
const isTrigger = (v: unknown) =>
  isRecord(v) &&
  isStr(v["name"]) &&
  (v["properties"] === undefined || isRecord(v["properties"])) &&
  isNum(v["timestamp"]);
const isConversion = (v: unknown) =>
  isRecord(v) && isStr(v["goal"]) && nullOr(v["stepId"], isStr) && isNum(v["at"]);

function isRunState(s: unknown): s is RunState {
  return (
    isRecord(s) &&
    isStr(s["runId"]) &&
    STATUSES.has(s["status"]) &&
    isStr(s["stepId"]) &&
    typeof s["entered"] === "boolean" &&
    nullOr(s["enteredAt"], isNum) &&
    nullOr(s["waitUntil"], isNum) &&
    nullOr(s["parkedFor"], isParkedFor) &&
    typeof s["held"] === "boolean" &&
    nullOr(s["trigger"], isTrigger) &&
    isCustomerSnapshot(s["customer"]) &&
    isOutputs(s["outputs"]) &&
    isRecord(s["vars"]) &&
    typeof s["converted"] === "boolean" &&
    nullOr(s["conversion"], isConversion) &&
    nullOr(s["endedAt"], isNum) &&
    nullOr(s["exitReason"], isStr) &&
    Number.isSafeInteger(s["stepsRun"]) &&
    (s["consumed"] === undefined || strings(s["consumed"]))
  );
}

/** A stored customer as CustomerSnapshot: as stored when it has the shape, else zod's parse. */
export function readCustomer(c: unknown): CustomerSnapshot {
  return isCustomerSnapshot(c) ? c : CustomerSnapshot.parse(c);
}

/** A stored run state as RunState: as stored when it has the shape, else parseRunState (throws). */
export function readRunState(s: unknown): RunState {
  return isRunState(s) ? s : parseRunState(s);
}

type PurlRow = {
  token: string;
  workspaceId: string;
  runId: string;
  customerId: string;
  stepId: string | null;
  page: string;
  params: Record<string, unknown>;
};

export function registerPurl(app: FastifyInstance, opts: PurlOptions): void {
  const { engine } = opts;
  const prisma = engine.db.prisma;
  const publicBase = engine.publicUrl.replace(/\/$/, "");
  // Same-origin form tokens: an HMAC with a key derived from the master key (stable across
  // restarts and servers); without a keyring, a key of this process.
  const formSecret = opts.keyring
    ? createHmac("sha256", opts.keyring.current.key).update("postpath:page-forms:v1").digest()
    : randomBytes(32);
  const csrfFor = (token: string, slug: string, formId: string, version: number) =>
    createHmac("sha256", formSecret)
      .update(`${token}\n${slug}\n${formId}\n${version}`)
      .digest("base64url");

  /** The PURL of a token, live or expired (`expired` says which), or null when unknown. */
  async function purlRow(token: string): Promise<(PurlRow & { expired: boolean }) | null> {
    if (token.length > 200) return null;
    const [p] = await engine.db.query<PurlRow & { expired: boolean }>(
      `SELECT token, "workspaceId", "runId", "customerId", "stepId", page, params,
              COALESCE("expiresAt" < $2::timestamp, false) AS expired
       FROM "Purl" WHERE token = $1`,
      [token, new Date(engine.now()).toISOString().slice(0, -1)],
      { prepare: "purl-row" },
    );
    return p ? { ...p, params: p.params ?? {} } : null;
  }

  /** A known but expired link: the workspace's "link expired" page when published. */
  async function expiredPage(token: string, reply: FastifyReply): Promise<FastifyReply> {
    const row = await purlRow(token);
    const page = row?.expired ? await publishedPage(row.workspaceId, EXPIRED_PAGE_SLUG) : null;
    if (!row || !page) return send(reply, 404, EXPIRED);
    return send(reply, 404, renderPage(row, page, {}).html);
  }

  /** The published version of the page a slug names (its live one unless `version`), or null. */
  async function publishedPage(workspaceId: string, slug: string, version?: number) {
    const [pv] = await engine.db.query<{ id: string; version: number }>(
      `SELECT v.id, v.version FROM "Page" p
       JOIN "PageVersion" v ON v."pageId" = p.id AND v.version = COALESCE($3::int, p."publishedVersion")
       WHERE p."workspaceId" = $1 AND p.slug = $2`,
      [workspaceId, slug, version ?? null],
      { prepare: "purl-published-page" },
    );
    const document = pv ? await documentOf(pv.id) : null;
    return pv && document ? { slug, id: pv.id, version: pv.version, document } : null;
  }

  /** What Liquid sees: the run's context with the customer as stored now, and `purl`. */
  async function contextFor(purl: PurlRow, extraRunIds: string[] = []): Promise<Ctx> {
    // One prepared statement for the customer and the runs (two Prisma queries cost 1.3–2.7 ms
    // more server CPU per page: bench/landing-page). A visit reads both in its own statement.
    const [row] = await engine.db.query<{
      customer: PurlVisit["customer"] | null;
      runs: { id: string; state: unknown }[];
    }>(
      `SELECT (SELECT jsonb_build_object('id', c.id, 'externalId', c."externalId", 'email', c.email,
                 'phone', c.phone, 'timezone', c.timezone, 'attributes', c.attributes, 'tags', to_jsonb(c.tags))
               FROM "Customer" c WHERE c.id = $1) AS customer,
              (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', r.id, 'state', r.state)), '[]'::jsonb)
               FROM "JourneyRun" r WHERE r.id = ANY($2::text[]) AND r."workspaceId" = $3) AS runs`,
      [purl.customerId, [purl.runId, ...extraRunIds], purl.workspaceId],
      { prepare: "purl-context" },
    );
    return contextFrom(purl, row?.customer ?? null, row?.runs ?? [], extraRunIds);
  }

  /** The Liquid context from the customer and the runs as read (the PURL's run first). */
  const contextFrom = (
    purl: PurlRow,
    customer: PurlVisit["customer"] | null,
    runs: { id: string; state: unknown }[],
    extraRunIds: string[] = [],
  ): Ctx => pageContext(purl, customer, runs, extraRunIds, publicBase);

  /**
   * Published page versions are immutable: their documents are kept in memory by version id
   * (the visit statement names the live version; a re-publish names a new id).
   */
  const documents = new Map<string, Promise<Doc | null>>();
  function documentOf(versionId: string): Promise<Doc | null> {
    let doc = documents.get(versionId);
    if (!doc) {
      doc = engine.db
        .query<{ document: Doc }>(`SELECT document FROM "PageVersion" WHERE id = $1`, [versionId], {
          prepare: "purl-page-document",
        })
        .then((rows) => rows[0]?.document ?? null);
      // A failed read is not kept.
      doc.catch(() => documents.delete(versionId));
      if (documents.size >= DOCUMENT_CACHE) documents.delete(documents.keys().next().value!);
      documents.set(versionId, doc);
    }
    return doc;
  }

  /**
   * The page's HTML: personalised, forms filled with pre-fills (or what was typed) and errors. A
   * page without typed values or errors comes from its document's skeleton when it has one and the
   * values fit it (page-skeleton.ts), else React draws it; `doc` (the personalised document) is
   * made when asked for.
   */
  function renderPage(
    purl: PurlRow,
    page: { slug: string; version: number; document: Doc },
    ctx: Ctx,
    posted?: {
      formId: string;
      values: Record<string, string | boolean>;
      errors: Record<string, string>;
      key: string;
    },
  ): { html: string; readonly doc: Doc } {
    const render = pageRenderer(ctx, page.document);
    const forms = formRuntimes(page.document, render, (formId) => {
      const own = posted?.formId === formId ? posted : undefined;
      return {
        action: `/p/${encodeURIComponent(purl.token)}/forms/${encodeURIComponent(formId)}?v=${page.version}${page.slug === purl.page ? "" : `&page=${encodeURIComponent(page.slug)}`}`,
        csrf: csrfFor(purl.token, page.slug, formId, page.version),
        key: own?.key ?? formKey(),
        own,
      };
    });
    let css = "";
    // Form starts are counted on the link's own page (not on the "link expired" page).
    if (page.slug === purl.page)
      for (const [formId, runtime] of Object.entries(forms))
        css += formStartCss(
          runtime.action,
          `/p/${encodeURIComponent(purl.token)}/forms/${encodeURIComponent(formId)}/start.gif?v=${page.version}`,
        );
    const storedTitle = page.document.root.props["title"];
    const title = typeof storedTitle === "string" ? render(storedTitle, "title") : storedTitle;
    let doc: Doc | undefined;
    const personalised = () => (doc ??= personalise(page.document, render));
    const body = pageBody(page.document, render, forms, {
      skeleton: !posted,
      personalised,
    });
    return {
      html: htmlDocument(pageTitle(page.document, title, purl.page), body, css),
      get doc() {
        return personalised();
      },
    };
  }

  /** A fixed-window counter in Redis; true while under `max`. Redis down: allowed. */
  const { redis: limiter, prefix } = limiterRedis(engine);
  app.addHook("onClose", (_i, done) => {
    limiter.disconnect();
    done();
  });
  async function allowed(key: string, max: number): Promise<boolean> {
    try {
      const k = `${prefix}:form-rate:${key}`;
      const res = await limiter.multi().incr(k).pexpire(k, FORM_RATE.windowMs, "NX").exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      return count <= max;
    } catch {
      return true;
    }
  }

  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: FORM_BODY_LIMIT },
      (_req, body, done) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of new URLSearchParams(body as string)) {
          const prev = out[k];
          out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        done(null, out);
      },
    );

    scope.get<{ Params: { token: string } }>("/p/:token", async (req, reply) => {
      // One statement counts the visit, traces it and reads the link and its live page version.
      const visit = await visitPurl(engine, req.params.token);
      if (!visit) return expiredPage(req.params.token, reply);
      const purl: PurlRow = visit;
      const document = visit.published ? await documentOf(visit.published.id) : null;
      if (!visit.published || !document) return send(reply, 200, fallbackPage(purl));
      const ctx = contextFrom(purl, visit.customer, [{ id: purl.runId, state: visit.runState }]);
      const page = { slug: purl.page, version: visit.published.version, document };
      return send(reply, 200, renderPage(purl, page, ctx).html);
    });

    scope.post<{
      Params: { token: string; formId: string };
      Querystring: { v?: string; page?: string };
      Body: Record<string, string | string[]> | undefined;
    }>("/p/:token/forms/:formId", { bodyLimit: FORM_BODY_LIMIT }, async (req, reply) => {
      const { token, formId } = req.params;
      if (
        !(await allowed(`ip:${req.ip}`, FORM_RATE.perIp)) ||
        !(await allowed(`t:${token}`, FORM_RATE.perToken))
      )
        return send(
          reply.header("retry-after", "60"),
          429,
          messagePage(
            "Please wait a moment",
            "We received many submissions from here. Please try again in a minute.",
          ),
        );
      // A form of the "link expired" page posts for the expired link's customer; any other needs a
      // live link.
      const fallback = req.query.page === EXPIRED_PAGE_SLUG;
      const row = await purlRow(token);
      const purl = row && (fallback || !row.expired) ? row : null;
      if (!purl) return send(reply, 404, EXPIRED);
      const slug = fallback ? EXPIRED_PAGE_SLUG : purl.page;
      const body = req.body && typeof req.body === "object" ? req.body : {};
      const one = (k: string) => {
        const v = body[k];
        return typeof v === "string" ? v : Array.isArray(v) ? (v[0] ?? "") : "";
      };
      const version = Number(req.query.v);
      const expected = Number.isInteger(version) ? csrfFor(token, slug, formId, version) : "";
      const given = one("_csrf");
      if (
        !expected ||
        given.length !== expected.length ||
        !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
      )
        return send(
          reply,
          403,
          messagePage(
            "This form has expired",
            "Please open your personal link again and resubmit the form.",
          ),
        );
      const page = await publishedPage(purl.workspaceId, slug, version);
      const form = page ? formsOf(page.document).find((f) => f.formId === formId) : undefined;
      if (!page || !form) return send(reply, 404, EXPIRED);
      const thanks = `/p/${encodeURIComponent(token)}/thanks/${encodeURIComponent(formId)}`;
      // A bot filled the field people never see: it is told "thank you" and nothing is stored.
      if (one("_hp") !== "") return reply.code(303).header("location", thanks).send();
      const key = one("_key").slice(0, 100);
      const parsed = submissionSchema(form).safeParse(body);
      if (!parsed.success || key === "") {
        const errors: Record<string, string> = {};
        for (const issue of parsed.success ? [] : parsed.error.issues) {
          const name = String(issue.path[0] ?? "");
          errors[name] ??= issue.message;
        }
        const values: Record<string, string | boolean> = {};
        for (const f of form.fields)
          values[f.name] =
            f.type === "checkbox" ? ["on", "true", "1"].includes(one(f.name)) : one(f.name);
        values["consent"] = ["on", "true", "1"].includes(one("consent"));
        const ctx = fallback ? {} : await contextFor(purl);
        return send(
          reply,
          422,
          renderPage(purl, page, ctx, {
            formId,
            values,
            errors,
            key: key || formKey(),
          }).html,
        );
      }
      await submit(purl, page, form, parsed.data, key, req);
      return reply.code(303).header("location", thanks).send();
    });

    scope.get<{ Params: { token: string; formId: string } }>(
      "/p/:token/thanks/:formId",
      async (req, reply) => {
        const { token, formId } = req.params;
        const row = await purlRow(token);
        if (!row) return send(reply, 404, EXPIRED);
        if (row.expired) {
          // Sent from the "link expired" page's form: a plain thank you (nothing personal).
          const sent = await prisma.formSubmission.count({ where: { purlToken: token, formId } });
          return sent > 0
            ? send(reply, 200, messagePage("Thank you", "We have received your details."))
            : send(reply, 404, EXPIRED);
        }
        const purl = row;
        const submission = await prisma.formSubmission.findFirst({
          where: { purlToken: token, formId, workspaceId: purl.workspaceId },
          orderBy: { createdAt: "desc" },
          select: { id: true, pageVersionId: true },
        });
        const sourceVersion = submission
          ? await prisma.pageVersion.findUnique({
              where: { id: submission.pageVersionId },
              select: { document: true },
            })
          : null;
        const source =
          (sourceVersion?.document as Doc | undefined) ??
          (await publishedPage(purl.workspaceId, purl.page))?.document;
        const form = source ? formsOf(source).find((f) => f.formId === formId) : undefined;
        const page = form?.thankYouSlug
          ? await publishedPage(purl.workspaceId, form.thankYouSlug)
          : null;
        if (!page)
          return send(reply, 200, messagePage("Thank you", "We have received your details."));
        // Runs the submission started (e.g. a "Form submitted" trigger) may issue the coupon too.
        const started = async () =>
          submission
            ? (
                await prisma.journeyRun.findMany({
                  where: {
                    workspaceId: purl.workspaceId,
                    // The page's customer (the submission's event is theirs): the runs' customer
                    // index, where the trigger event alone has none and scanned every run.
                    customerId: purl.customerId,
                    triggerEventId: {
                      // The submission's event, through its de-duplication key (issue 15:
                      // "Event" has no (workspaceId, messageId) index any more).
                      in: (
                        await prisma.eventKey.findMany({
                          where: {
                            workspaceId: purl.workspaceId,
                            messageId: `form-${submission.id}`,
                          },
                          select: { eventId: true },
                        })
                      ).map((e) => e.eventId),
                    },
                  },
                  select: { id: true },
                })
              ).map((r) => r.id)
            : [];
        // Wait (bounded) while a coupon card has no code and the journey is still going.
        const until = Date.now() + THANKS_WAIT_MS;
        for (;;) {
          const ctx = await contextFor(purl, await started());
          const rendered = renderPage(purl, page, ctx);
          if (
            !couponPending(rendered.doc) ||
            Date.now() >= until ||
            (await runFinished(purl.runId))
          )
            return send(reply, 200, rendered.html);
          await new Promise((r) => setTimeout(r, THANKS_POLL_MS));
        }
      },
    );

    // A form on the page was started (see formStartCss): the first start per link and form is
    // stored; always answered with the pixel, so it tells nothing about the token.
    scope.get<{ Params: { token: string; formId: string }; Querystring: { v?: string } }>(
      "/p/:token/forms/:formId/start.gif",
      async (req, reply) => {
        const { token, formId } = req.params;
        const version = Number(req.query.v);
        if (token.length <= 200 && formId.length <= 100 && Number.isInteger(version) && version > 0)
          await prisma.$executeRaw`
            INSERT INTO "FormStart" (token, "formId", "workspaceId", page, "pageVersion", "customerId", at)
            SELECT p.token, ${formId}, p."workspaceId", p.page, ${version}, p."customerId", ${new Date(engine.now())}
            FROM "Purl" p
            WHERE p.token = ${token} AND (p."expiresAt" IS NULL OR p."expiresAt" >= ${new Date(engine.now())})
            ON CONFLICT DO NOTHING`;
        return reply
          .headers({
            "cache-control": "private, no-store",
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
          })
          .type("image/gif")
          .send(PIXEL);
      },
    );

    scope.get<{ Params: { token: string } }>("/p/:token/qr.png", async (req, reply) => {
      const url = `${publicBase}/p/${req.params.token}`;
      const qr = await createQrCode(url, { width: 300 });
      return reply
        .type("image/png")
        .header("cache-control", "public, max-age=86400")
        .send(Buffer.from(qr.pngDataUrl.split(",")[1] ?? "", "base64"));
    });
    done();
  });

  async function runFinished(runId: string): Promise<boolean> {
    const run = await prisma.journeyRun.findUnique({
      where: { id: runId },
      select: { state: true },
    });
    if (!run?.state) return false;
    try {
      return isFinished(parseRunState(run.state));
    } catch {
      return true;
    }
  }

  /**
   * Stores the submission once per idempotency key (a concurrent double POST: the unique index
   * decides), saves mapped attributes in the same transaction, then records `form_submitted`
   * through ingest with the submission id as messageId — a replay records it again only if the
   * first attempt never did, and ingest de-duplicates.
   */
  async function submit(
    purl: PurlRow,
    page: { id: string; slug: string; version: number },
    form: FormProps,
    values: Record<string, string | boolean | undefined>,
    key: string,
    req: FastifyRequest,
  ): Promise<void> {
    const fields: Record<string, string | boolean> = {};
    for (const f of form.fields) {
      const v = values[f.name];
      if (v !== undefined) fields[f.name] = v;
    }
    const consent = form.consent.enabled
      ? {
          given: values["consent"] === true,
          text: form.consent.text,
          version: form.consent.version,
          at: new Date(engine.now()).toISOString(),
          ip: req.ip,
        }
      : null;
    const idempotencyKey = `${purl.token}:${form.formId}:${key}`;
    const id = `fs${randomHex(12)}`;
    const attributes: Record<string, string | boolean> = {};
    let email: string | null = null;
    let phone: string | null = null;
    for (const f of form.fields) {
      const v = fields[f.name];
      if (!f.saveTo || v === undefined || v === "") continue;
      if (f.saveTo === "email" && typeof v === "string") email = v;
      else if (f.saveTo === "phone" && typeof v === "string") phone = v;
      else attributes[f.saveTo] = v;
    }
    const saves = Object.keys(attributes).length > 0 || email !== null || phone !== null;
    const trace = {
      text: `Submitted form ${form.formId}`,
      formId: form.formId,
      page: page.slug,
      version: page.version,
      submissionId: id,
    };
    // One statement: the submission (once per idempotency key: a concurrent double POST waits
    // for the other and stores nothing), the run's trace line and the mapped attributes, all or
    // nothing; and the customer's id for the event.
    const [stored] = await engine.db.query<{ inserted: string | null; externalId: string | null }>(
      `WITH ins AS (
         INSERT INTO "FormSubmission" (id, "workspaceId", "pageVersionId", "purlToken", "customerId", "formId", "idempotencyKey", fields, consent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
         ON CONFLICT ("workspaceId", "idempotencyKey") DO NOTHING
         RETURNING id
       ), traced AS (
         INSERT INTO "RunTrace" ("runId", "stepId", kind, detail, at)
         SELECT $10, $11, 'form.submitted', $12::jsonb, $13::timestamp FROM ins
       ), saved AS (
         UPDATE "Customer" SET attributes = attributes || $14::jsonb,
           email = COALESCE($15, email), phone = COALESCE($16, phone), "updatedAt" = now()
         WHERE id = $5 AND "workspaceId" = $2 AND $17::boolean AND EXISTS (SELECT 1 FROM ins)
       )
       SELECT (SELECT id FROM ins) AS inserted,
              (SELECT "externalId" FROM "Customer" WHERE id = $5 AND "workspaceId" = $2) AS "externalId"`,
      [
        id,
        purl.workspaceId,
        page.id,
        purl.token,
        purl.customerId,
        form.formId,
        idempotencyKey,
        JSON.stringify(fields),
        consent === null ? null : JSON.stringify(consent),
        purl.runId,
        purl.stepId,
        JSON.stringify(trace),
        new Date(engine.now()).toISOString().slice(0, -1),
        JSON.stringify(attributes),
        email,
        phone,
        saves,
      ],
      { prepare: "purl-submit" },
    );
    const inserted = typeof stored?.inserted === "string";
    const submissionId = inserted
      ? id
      : (
          await engine.db.query<{ id: string }>(
            `SELECT id FROM "FormSubmission" WHERE "workspaceId" = $1 AND "idempotencyKey" = $2`,
            [purl.workspaceId, idempotencyKey],
            { prepare: "purl-submission-by-key" },
          )
        )[0]?.id;
    if (!submissionId) throw new Error("form submission: neither stored nor found");
    // issue 16: a ticked consent box subscribes the customer (history: the text shown, its
    // version, the time and IP). A replay records it again only if the first attempt did not.
    if (consent?.given)
      await recordFormConsent(engine, {
        workspaceId: purl.workspaceId,
        customerId: purl.customerId,
        submissionId,
        formId: form.formId,
        consent,
      });
    if (!stored?.externalId) return; // the customer was erased meanwhile
    await track(engine, purl.workspaceId, {
      userId: stored.externalId,
      event: FORM_SUBMITTED,
      properties: {
        ...fields,
        form: form.formId,
        formId: form.formId,
        pageSlug: page.slug,
        token: purl.token,
      },
      messageId: `form-${submissionId}`,
    });
  }
}

/** A PURL whose page is not (yet) published: a plain page with its params, still personal. */
function fallbackPage(purl: PurlRow): string {
  const rows = Object.entries(purl.params)
    .map(
      ([k, v]) =>
        `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(typeof v === "string" ? v : JSON.stringify(v))}</dd>`,
    )
    .join("");
  return htmlDocument(
    purl.page,
    `<main class="pp-page" data-page="${escapeHtml(purl.page)}"><h1 class="pp-heading">${escapeHtml(purl.page)}</h1><dl>${rows}</dl></main>`,
  );
}
