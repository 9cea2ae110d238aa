// Issue 12, finding 4: with a webhook connection bound to an origin, a webhook step may only
// choose a path on it; any URL whose host could differ is an error on the step's node.
import { describe, expect, it } from "vitest";
import { compile, validate } from "../index.ts";
import { draftFromSteps } from "../builder.ts";
import { fixedOrigin } from "./action-webhook.ts";

const ORIGIN = "https://api.shop.example";

function draftCalling(url: string) {
  return draftFromSteps([
    { id: "t", type: "trigger.event", data: { event: "purchase", filters: [] }, next: "call" },
    { id: "call", type: "action.webhook", data: { url }, next: "x" },
    { id: "x", type: "flow.exit" },
  ]);
}
const originIssues = (url: string, webhookOrigin: string | null = ORIGIN) =>
  validate(draftCalling(url), webhookOrigin ? { webhookOrigin } : {}).filter(
    (i) => i.code === "webhook.origin",
  );

describe("a webhook step under a webhook connection", () => {
  it.each([
    `${ORIGIN}/orders`,
    `${ORIGIN}/orders/{{ customer.id }}?src={{ event.name }}`,
    "https://API.shop.example:443/x",
    `${ORIGIN}?q={{ customer.id }}`,
    `${ORIGIN}#{{ x }}`,
    `${ORIGIN}/`,
    ORIGIN,
  ])("may call %s", (url) => {
    expect(originIssues(url)).toEqual([]);
  });

  it.each([
    "https://evil.example/collect",
    "http://api.shop.example/orders", // another scheme
    "https://api.shop.example:8443/orders", // another port
    "https://api.shop.example.evil.example/",
    "https://api.shop.example@evil.example/",
    "https://api.shop.example{{ customer.suffix }}/x", // the host can still change
    "https://{{ event.host }}/x",
    "{{ event.url }}",
    "https://api.shop.example:{{ event.port }}/x",
    "https:///evil.example/{{ x }}",
    "https://api.shop.\nexample.evil/{{ x }}",
  ])("may not call %s: an error on the node, naming the connection's address", (url) => {
    const issues = originIssues(url);
    if (!/^https?:\/\//i.test(url)) {
      // Reported as a malformed URL instead.
      expect(validate(draftCalling(url), { webhookOrigin: ORIGIN })).toContainEqual(
        expect.objectContaining({ nodeId: "call", code: "webhook.url" }),
      );
      return;
    }
    expect(issues).toEqual([
      {
        code: "webhook.origin",
        field: "url",
        nodeId: "call",
        message: `The webhook connection only calls ${ORIGIN}: start the URL with ${ORIGIN}/ and choose the path after it.`,
      },
    ]);
    expect(compile(draftCalling(url), { webhookOrigin: ORIGIN }).ok).toBe(false);
  });

  it("without a connection origin, any http(s) URL is fine", () => {
    expect(originIssues("https://evil.example/collect", null)).toEqual([]);
    expect(compile(draftCalling("https://evil.example/collect")).ok).toBe(true);
  });

  it("fixedOrigin: the origin a template always has, or null", () => {
    expect(fixedOrigin("https://a.example/x/{{ y }}")).toBe("https://a.example");
    expect(fixedOrigin("https://a.example\\{{ y }}")).toBe("https://a.example");
    expect(fixedOrigin("https://a.example{{ y }}")).toBeNull();
    expect(fixedOrigin("https://a.exa{% if x %}mple{% endif %}/")).toBeNull();
    expect(fixedOrigin("not a url")).toBeNull();
  });
});
