// Warnings: what validate() checks against the workspace's catalogue (attributes seen on customers,
// properties seen on events) may be incomplete, so it warns and never blocks compile/publish.
import { describe, expect, it } from "vitest";
import { draftFromSteps } from "./builder.ts";
import {
  closestName,
  compile,
  errorsOnly,
  initialState,
  isWarning,
  templateContext,
  validate,
} from "./index.ts";
import type { Catalog, StepSpec } from "./index.ts";

const exit: StepSpec = { id: "x", type: "flow.exit" };

/** trigger (event "purchase") → one email with `subject` → exit. */
function emailDraft(subject: string, trigger: StepSpec["type"] = "trigger.event") {
  return draftFromSteps([
    {
      id: "t",
      type: trigger,
      data: trigger === "trigger.event" ? { event: "purchase" } : {},
      next: "mail",
    },
    {
      id: "mail",
      type: "action.email",
      data: { label: "Thank you", subject, body: "Hello" },
      next: "x",
    },
    exit,
  ]);
}

const catalog: Catalog = {
  attributes: ["first_name", "tier"],
  eventProperties: { purchase: ["order_id", "total"] },
};

describe("validate: warnings from the catalogue", () => {
  it("a misspelt attribute is a warning naming the step, the field, the variable and the closest name", () => {
    const draft = emailDraft("Hi {{ frist_name }}");
    expect(validate(draft, catalog)).toEqual([
      {
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "subject",
        message: `{{ frist_name }}: no trigger, customer attribute or earlier step provides "frist_name". Did you mean {{ first_name }}?`,
        suggestion: "first_name",
      },
    ]);
    // Warnings never block: the draft compiles.
    expect(compile(draft, catalog).ok).toBe(true);
  });

  it("known attributes, and any name without a catalogue, give nothing", () => {
    expect(validate(emailDraft("Hi {{ first_name }}, {{ tier | upcase }}"), catalog)).toEqual([]);
    expect(validate(emailDraft("Hi {{ frist_name }}"))).toEqual([]);
    expect(validate(emailDraft("Hi {{ frist_name }}"), {})).toEqual([]);
  });

  it("no suggestion when nothing known is close", () => {
    const [issue] = validate(emailDraft("{{ loyalty_points }}"), catalog);
    expect(issue).toMatchObject({ severity: "warning", nodeId: "mail", field: "subject" });
    expect(issue?.suggestion).toBeUndefined();
    expect(issue?.message).not.toContain("Did you mean");
  });

  it("customer.attributes.<name> is checked against the catalogue", () => {
    expect(validate(emailDraft("{{ customer.attributes.tier }}"), catalog)).toEqual([]);
    expect(validate(emailDraft("{{ customer.attributes.teir }}"), catalog)).toEqual([
      expect.objectContaining({
        code: "template.unknown_variable",
        severity: "warning",
        suggestion: "customer.attributes.tier",
      }),
    ]);
    expect(validate(emailDraft("{{ customer.attributes.teir }}"))).toEqual([]);
  });

  it("customer.<name> reads the attribute (as in Customer.io): checked against the catalogue, a warning", () => {
    expect(
      validate(emailDraft("{{ customer.email }} {{ customer.externalId }} {{ customer.tags }}")),
    ).toEqual([]);
    expect(validate(emailDraft("Hi {{ customer.first_name }}"), catalog)).toEqual([]);
    expect(validate(emailDraft("Hi {{ customer.frist_name }}"), catalog)).toEqual([
      {
        code: "template.unknown_variable",
        severity: "warning",
        nodeId: "mail",
        field: "subject",
        message:
          '{{ customer.frist_name }}: no customer seen so far has the attribute "frist_name", and it is no customer field. Did you mean {{ customer.first_name }}?',
        suggestion: "customer.first_name",
      },
    ]);
    expect(validate(emailDraft("{{ customer.emial }}"), catalog)).toEqual([
      expect.objectContaining({ severity: "warning", suggestion: "customer.email" }),
    ]);
    // Nothing observed: any attribute may exist.
    expect(validate(emailDraft("{{ customer.frist_name }}"))).toEqual([]);
    expect(compile(emailDraft("{{ customer.frist_name }}"), catalog).ok).toBe(true);
  });

  it("renders customer.<attribute> with the attribute's value, and built-in fields win", () => {
    const compiled = compile(emailDraft("Hi"));
    if (!compiled.ok) throw new Error("the test draft should compile");
    const ctx = templateContext({
      ...initialState(compiled.plan, {
        runId: "r1",
        customer: {
          id: "c1",
          externalId: "ext-1",
          email: "grace@example.com",
          attributes: { first_name: "Grace", email: "other@example.com" },
          tags: [],
        },
      }),
    });
    const customer = ctx.customer as Record<string, unknown>;
    expect(customer.first_name).toBe("Grace");
    expect(customer.email).toBe("grace@example.com");
    expect(ctx.first_name).toBe("Grace");
  });

  it("observed event properties warn; declared ones (manual trigger) stay errors", () => {
    expect(validate(emailDraft("{{ event.order_id }}"), catalog)).toEqual([]);
    expect(validate(emailDraft("{{ event.totl }}"), catalog)).toEqual([
      expect.objectContaining({
        code: "template.unknown_variable",
        severity: "warning",
        suggestion: "event.total",
      }),
    ]);
    // An event the workspace has never seen: nothing known, nothing checked.
    expect(validate(emailDraft("{{ event.totl }}"), { eventProperties: {} })).toEqual([]);
    const declared = draftFromSteps([
      { id: "t", type: "trigger.manual", data: { properties: ["reason"] }, next: "mail" },
      {
        id: "mail",
        type: "action.email",
        data: { subject: "{{ event.order }}", body: "-" },
        next: "x",
      },
      exit,
    ]);
    const [issue] = validate(declared, catalog);
    expect(issue).toMatchObject({ code: "template.unknown_variable", nodeId: "mail" });
    expect(isWarning(issue!)).toBe(false);
    expect(compile(declared, catalog).ok).toBe(false);
  });

  it("correlation keys checked against observed events are warnings; against a form's fields, errors", () => {
    const wait = (trigger: StepSpec): StepSpec[] => [
      trigger,
      {
        id: "w",
        type: "wait.event",
        data: {
          event: "machine_registered",
          timeout: { amount: 7, unit: "days" },
          correlate: { property: "serial", triggerProperty: "serial" },
        },
        next: { arrived: "x", timedOut: "x" },
      },
      exit,
    ];
    const observed = validate(
      draftFromSteps(
        wait({ id: "t", type: "trigger.event", data: { event: "purchase" }, next: "w" }),
      ),
      { eventProperties: { purchase: ["order_id"], machine_registered: ["serial_no"] } },
    );
    expect(observed.map((i) => [i.code, i.severity])).toEqual([
      ["correlation.not_in_trigger", "warning"],
      ["correlation.not_in_event", "warning"],
    ]);
    const declared = validate(
      draftFromSteps(
        wait({ id: "t", type: "trigger.form", data: { form: "f", fields: ["email"] }, next: "w" }),
      ),
    );
    expect(declared.map((i) => [i.code, i.severity ?? "error"])).toEqual([
      ["correlation.not_in_trigger", "error"],
    ]);
  });

  it("compile reports only the errors when a draft has both", () => {
    const draft = draftFromSteps([
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "mail" },
      // Not connected to anything: an error.
      { id: "mail", type: "action.email", data: { subject: "{{ frist_name }}", body: "Hi" } },
    ]);
    const all = validate(draft, catalog);
    expect(all.some(isWarning)).toBe(true);
    const r = compile(draft, catalog);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toEqual(errorsOnly(all));
    expect(!r.ok && r.errors.some(isWarning)).toBe(false);
  });
});

describe("closestName", () => {
  it("finds likely typos only", () => {
    expect(closestName("frist_name", ["tier", "first_name"])).toBe("first_name");
    expect(closestName("teir", ["tier", "first_name"])).toBe("tier");
    expect(closestName("First_Name", ["first_name"])).toBe("first_name");
    expect(closestName("coupon", ["first_name", "tier"])).toBeUndefined();
    expect(closestName("tier", ["tier"])).toBeUndefined();
  });
});
