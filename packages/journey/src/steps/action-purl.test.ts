import { describe, expect, it } from "vitest";
import { validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { T0, actions, around, customer, enter, feed } from "./testing.ts";

describe("action.purl", () => {
  const plan = around({
    id: "s",
    type: "action.purl",
    data: { page: "register", params: { serial: "{{ event.serial }}", name: "{{ first_name }}" } },
  });

  it("requests a personalised URL with rendered params and a QR code", () => {
    const r = enter(plan, {
      customer: customer(),
      trigger: { name: "purchase", properties: { serial: "SN-9" }, timestamp: T0 },
    });
    expect(actions(r.effects)).toEqual([
      {
        kind: "createPurl",
        stepId: "s",
        page: "register",
        params: { serial: "SN-9", name: "Anna" },
        qr: true,
        expiresAt: null,
      },
    ]);
    const done = feed(
      plan,
      r,
      {
        kind: "result",
        stepId: "s",
        ok: true,
        output: {
          url: "https://go.example/register/abc",
          qrUrl: "https://go.example/register/abc/qr.png",
        },
      },
      T0,
    );
    expect(done.state.vars["purl"]).toEqual({
      url: "https://go.example/register/abc",
      qrUrl: "https://go.example/register/abc/qr.png",
    });
  });

  it("templates after it may use purl.url; templates on a path that skips it may not", () => {
    const issues = validate(
      draftFromSteps([
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "split" },
        {
          id: "split",
          type: "split.condition",
          data: { conditions: [{ property: "event.tier", op: "eq", value: "premium" }] },
          next: { yes: "p", no: "mail" },
        },
        { id: "p", type: "action.purl", data: { page: "register" }, next: "mail" },
        {
          id: "mail",
          type: "action.email",
          data: { subject: "Register", body: "{{ purl.url }}" },
          next: "x",
        },
        { id: "x", type: "flow.exit" },
      ]),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: "template.variable_not_provided",
        nodeId: "mail",
        field: "body",
      }),
    ]);
  });

  it("issue 16: a page the workspace lacks or has not published is a warning on the step", () => {
    const draft = (page: string) =>
      draftFromSteps([
        { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "p" },
        { id: "p", type: "action.purl", data: { page }, next: "x" },
        { id: "x", type: "flow.exit" },
      ]);
    const pages = {
      spring: { name: "Spring sale", published: true },
      autumn: { name: "Autumn preview", published: false },
    };
    expect(validate(draft("spring"), { pages })).toEqual([]);
    expect(validate(draft("autumn"), { pages })).toEqual([
      expect.objectContaining({
        code: "purl.page_unpublished",
        severity: "warning",
        nodeId: "p",
        field: "page",
        message: expect.stringContaining("“Autumn preview” is not published yet") as string,
      }),
    ]);
    expect(validate(draft("winter"), { pages })).toEqual([
      expect.objectContaining({
        code: "purl.unknown_page",
        severity: "warning",
        nodeId: "p",
        field: "page",
        message: expect.stringContaining("address “winter”") as string,
      }),
    ]);
    // "constructor" is no page either; without the workspace's pages nothing is checked.
    expect(validate(draft("constructor"), { pages })[0]?.code).toBe("purl.unknown_page");
    expect(validate(draft("winter"), {})).toEqual([]);
  });
});
