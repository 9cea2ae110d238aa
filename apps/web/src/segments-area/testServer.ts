// issue 16: a fake API at the HTTP boundary for the Segments area's jsdom tests: `segments.*`
// answered from memory. The preview counts the in-memory customers that meet the definition's
// attribute rules (enough to see the count follow the editor), create stores the segment.
import { stubTrpc, type Handlers } from "../test/trpcStub.ts";
import type { LifecycleView, SegmentDetail, SegmentRow } from "./contract.ts";

export interface FakeCustomer {
  id: string;
  externalId: string;
  email: string;
  attributes: Record<string, unknown>;
}

export function fakeSegmentsServer(customers: FakeCustomer[]) {
  const segments: SegmentDetail[] = [];
  const lifecycle: LifecycleView = {
    enabled: false,
    settings: {
      event: "purchase",
      newDays: 30,
      repeatCount: 2,
      repeatDays: 365,
      activeDays: 90,
      lapsedDays: 180,
    },
    stages: [
      { stage: "new", rule: "first purchase within the last 30 days", segmentId: null, members: 0 },
      {
        stage: "at_risk",
        rule: "the last purchase was between 90 and 180 days ago",
        segmentId: null,
        members: 0,
      },
    ],
  };
  const matches = (def: { match?: string; rules: Record<string, unknown>[] }) =>
    customers.filter((c) => {
      const tests = def.rules.map((r) =>
        r.kind === "attribute"
          ? String(c.attributes[String(r.property)]) === String(r.value)
          : true,
      );
      return def.match === "any" ? tests.some(Boolean) : tests.every(Boolean);
    });
  const handlers: Handlers = {
    "segments.list": (): SegmentRow[] =>
      segments.map((s) => ({
        id: s.id,
        name: s.name,
        description: s.description,
        kind: s.kind,
        stage: s.stage,
        members: s.members,
        rules: s.rules,
        match: s.definition?.match ?? "all",
        updatedAt: s.updatedAt,
      })),
    "segments.get": (input) => {
      const s = segments.find((x) => x.id === (input as { id: string }).id);
      if (!s) throw new Error("No segment with that id in this workspace.");
      return s;
    },
    "segments.preview": (input) => {
      const hits = matches((input as { definition: never }).definition);
      return {
        count: hits.length,
        sample: hits
          .slice(0, 20)
          .map((c) => ({ id: c.id, externalId: c.externalId, email: c.email })),
      };
    },
    "segments.create": (input) => {
      const i = input as { name: string; description: string; definition: never };
      const id = `s${segments.length + 1}`;
      segments.push({
        id,
        name: i.name,
        description: i.description,
        kind: "custom",
        stage: null,
        definition: i.definition,
        rules: ["(rules in words)"],
        members: matches(i.definition).length,
        usedBy: [],
        updatedAt: "2026-12-04T12:00:00.000Z",
      });
      return { id };
    },
    "segments.mintPurls": (input) => {
      const i = input as { id: string; page: string; drop: string };
      if (i.page !== "register" && i.page !== "winter-offer")
        throw new Error("page: no page with that address in this workspace.");
      return { members: 24, created: 24, drop: i.drop, page: i.page, published: true };
    },
    "pages.list": () => [
      {
        id: "p1",
        name: "Register your machine",
        slug: "register",
        publishedVersion: 1,
        updatedAt: "2026-12-04T12:00:00.000Z",
      },
      {
        id: "p2",
        name: "Winter offer",
        slug: "winter-offer",
        publishedVersion: null,
        updatedAt: "2026-12-04T12:00:00.000Z",
      },
    ],
    "segments.lifecycle.get": () => lifecycle,
    "segments.lifecycle.set": (input) => {
      lifecycle.settings = input as LifecycleView["settings"];
      lifecycle.enabled = true;
      return { segmentIds: {} };
    },
  };
  const calls = stubTrpc(handlers);
  return {
    segments,
    calls,
    callsTo: (path: string) => calls.filter((c) => c.path === path),
  };
}
