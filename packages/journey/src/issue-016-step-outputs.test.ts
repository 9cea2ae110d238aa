// Issue 16: a step that makes an output says which fields it has (the PURL step's `url` and
// `qrUrl`, the coupon's `code`…), and a template reading a field no step gives is a warning on the
// node that reads it, with the closest field — without an observed catalogue, and never blocking.
import { describe, expect, it } from "vitest";
import { draftFromSteps } from "./builder.ts";
import { compile, stepModule, validate } from "./index.ts";

/** trigger → PURL (qr as given) → coupon from a pattern → email with `body` → exit. */
function draft(body: string, qr = true) {
  return draftFromSteps([
    { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "link" },
    { id: "link", type: "action.purl", data: { page: "spring", qr }, next: "code" },
    {
      id: "code",
      type: "action.coupon",
      data: {
        source: { kind: "pattern", pattern: "SPRING-####" },
        value: { kind: "percent", amount: 10 },
      },
      next: "mail",
    },
    {
      id: "mail",
      type: "action.email",
      data: { label: "Your link", subject: "Hello", body },
      next: "x",
    },
    { id: "x", type: "flow.exit" },
  ]);
}

describe("issue 16: step outputs and their fields", () => {
  it("the PURL and coupon steps list the fields later templates read", () => {
    const purl = stepModule("action.purl");
    const parsed = purl.schema.parse({ page: "spring" });
    expect(purl.provides?.(parsed)).toEqual([
      { name: "purl", on: ["next"], fields: ["url", "qrUrl", "token", "page"] },
    ]);
    expect(purl.provides?.(purl.schema.parse({ page: "spring", qr: false }))[0]?.fields).toEqual([
      "url",
      "token",
      "page",
    ]);
    const coupon = stepModule("action.coupon");
    const pool = coupon.schema.parse({
      source: { kind: "pool", pool: "spring" },
      value: { kind: "amount", amount: 5 },
      as: "gift",
    });
    expect(coupon.provides?.(pool)).toEqual([
      {
        name: "gift",
        on: ["next"],
        fields: ["code", "value", "valueKind", "currency", "expiresAt", "pool"],
      },
    ]);
  });

  it("known fields give nothing", () => {
    expect(
      validate(draft("{{ purl.url }} {{ purl.qrUrl }} {{ coupon.code }} {{ coupon.value }}")),
    ).toEqual([]);
  });

  it("an unknown field is a warning on the node that reads it, with the closest field", () => {
    const issues = validate(draft("Open {{ purl.link }} and use {{ coupon.cod }}"));
    expect(issues).toEqual([
      {
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "body",
        message: `{{ purl.link }}: "purl" has no "link"; it has purl.url, purl.qrUrl, purl.token, purl.page.`,
      },
      {
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "body",
        message: `{{ coupon.cod }}: "coupon" has no "cod"; it has coupon.code, coupon.value, coupon.valueKind, coupon.currency, coupon.expiresAt. Did you mean {{ coupon.code }}?`,
        suggestion: "coupon.code",
      },
    ]);
    // A warning: publishing is not blocked.
    expect(compile(draft("Open {{ purl.link }}")).ok).toBe(true);
  });

  it("a PURL step without a QR code has no qrUrl", () => {
    expect(validate(draft("{{ purl.qrUrl }}", false))).toEqual([
      expect.objectContaining({
        code: "template.unknown_variable",
        nodeId: "mail",
        suggestion: "purl.url",
      }),
    ]);
    expect(validate(draft("{{ purl.qrUrl }}", true))).toEqual([]);
  });

  it("a step whose output is not known in advance (a webhook's response) accepts any field", () => {
    const d = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "hook" },
      {
        id: "hook",
        type: "action.webhook",
        data: { url: "https://example.com/hook", as: "crm" },
        next: "mail",
      },
      {
        id: "mail",
        type: "action.email",
        data: { subject: "Hi", body: "{{ crm.anything.deep }}" },
        next: "x",
      },
      { id: "x", type: "flow.exit" },
    ]);
    expect(validate(d).filter((i) => i.code.startsWith("template."))).toEqual([]);
  });
});

describe("issue 16: an awaited event's properties as an output", () => {
  /** purchase → wait for review_left (as "review") → email reading `body`. */
  function reviewDraft(body: string) {
    return draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "wait" },
      {
        id: "wait",
        type: "wait.event",
        data: { event: "review_left", timeout: { amount: 7, unit: "days" }, as: "review" },
        next: { arrived: "mail", timedOut: "x" },
      },
      { id: "mail", type: "action.email", data: { subject: "Thanks", body }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
  }
  const catalog = { eventProperties: { purchase: ["total"], review_left: ["stars", "text"] } };

  it("fields the workspace has seen on the event give nothing; another is a warning saying so", () => {
    expect(validate(reviewDraft("{{ review.stars }} {{ review.text }}"), catalog)).toEqual([]);
    expect(validate(reviewDraft("{{ review.star }}"), catalog)).toEqual([
      {
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "body",
        message: `{{ review.star }}: the event behind "review" hasn't been seen carrying "star" (seen: stars, text). Did you mean {{ review.stars }}?`,
        suggestion: "review.stars",
      },
    ]);
  });

  it("without an observation of the event, any field is accepted", () => {
    expect(validate(reviewDraft("{{ review.anything }}"))).toEqual([]);
    expect(
      validate(reviewDraft("{{ review.anything }}"), { eventProperties: { purchase: ["total"] } }),
    ).toEqual([]);
  });
});
