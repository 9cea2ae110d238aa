// issue 16: a fake API at the HTTP boundary for the Customers area's jsdom tests: `customers.*`
// answered from memory (search by id prefix with keyset pages, erase refusing a wrong id).
import { ApiError, stubTrpc, type Handlers } from "../test/trpcStub.ts";
import type {
  CustomerProfile,
  CustomerRow,
  RenderedMessage,
  RunsPage,
  TimelinePage,
} from "./contract.ts";

export function customerRow(n: number): CustomerRow {
  const id = String(n).padStart(3, "0");
  return {
    id: `c${id}`,
    externalId: `user-${id}`,
    name: n === 1 ? "Ada Lovelace" : null,
    email: `person${id}@example.com`,
    phone: null,
    updatedAt: "2026-11-20T10:15:00.000Z",
  };
}

export function profile(overrides: Partial<CustomerProfile> = {}): CustomerProfile {
  return {
    id: "c001",
    externalId: "user-001",
    name: "Ada Lovelace",
    email: "ada@example.com",
    phone: "+447700900001",
    timezone: null,
    createdAt: "2026-11-01T09:00:00.000Z",
    updatedAt: "2026-11-20T10:15:00.000Z",
    attributes: [
      { key: "first_name", value: "Ada" },
      { key: "plan", value: "gold" },
    ],
    tags: ["vip"],
    consent: [
      {
        channel: "email",
        label: "Email",
        status: "unsubscribed",
        source: "unsubscribe link",
        changedAt: "2026-11-19T08:00:00.000Z",
      },
      { channel: "sms", label: "SMS", status: "never asked", source: null, changedAt: null },
      { channel: "push", label: "Push", status: "never asked", source: null, changedAt: null },
    ],
    counts: { events: 2, runs: 1 },
    ...overrides,
  };
}

export const timeline: TimelinePage = {
  items: [
    {
      id: "e2",
      name: "purchase",
      timestamp: "2026-11-18T12:00:00.000Z",
      properties: [{ key: "total", value: "49.5" }],
    },
    { id: "e1", name: "signup", timestamp: "2026-11-01T09:00:00.000Z", properties: [] },
  ],
  nextCursor: null,
};

export const runs: RunsPage = {
  items: [
    {
      id: "r1",
      journeyId: "j1",
      journeyName: "Welcome series",
      versionNumber: 2,
      status: "COMPLETED",
      statusWords: "Completed",
      currentStep: null,
      startedAt: "2026-11-01T09:00:01.000Z",
      endedAt: "2026-11-01T09:00:05.000Z",
      trace: [
        {
          id: "1",
          at: "2026-11-01T09:00:01.000Z",
          stepName: "Signed up",
          text: "Entered the journey at “Signed up”",
          until: null,
          messageId: null,
        },
        {
          id: "2",
          at: "2026-11-01T09:00:02.000Z",
          stepName: "Is a gold member?",
          text: "Took the “yes” path → “Gold welcome”",
          until: null,
          messageId: null,
        },
        {
          id: "2b",
          at: "2026-11-01T09:00:02.500Z",
          stepName: "Short pause",
          text: "Waiting 30 seconds",
          until: "2026-11-01T09:00:32.000Z",
          messageId: null,
        },
        {
          id: "3",
          at: "2026-11-01T09:00:03.000Z",
          stepName: "Gold welcome",
          text: "Sent the email",
          until: null,
          messageId: "m1",
        },
      ],
      messages: [
        {
          id: "m1",
          stepName: "Gold welcome",
          channel: "email",
          channelWords: "email",
          status: "SENT",
          statusWords: "Sent",
          recipient: "ada@example.com",
          createdAt: "2026-11-01T09:00:03.000Z",
          sentAt: "2026-11-01T09:00:03.000Z",
        },
      ],
    },
  ],
  nextCursor: null,
};

export const message: RenderedMessage = {
  id: "m1",
  channel: "email",
  channelWords: "email",
  status: "SENT",
  statusWords: "Sent",
  recipient: "ada@example.com",
  error: null,
  createdAt: "2026-11-01T09:00:03.000Z",
  sentAt: "2026-11-01T09:00:03.000Z",
  subject: "Welcome, Ada",
  title: null,
  text: "Hi Ada",
  html: '<p>Hi <b>Ada</b></p><img src="https://tracker.example/open.gif"><script>parent.stolen = 1</script>',
  fromName: null,
  details: [],
};

/** Stubs `fetch`: `customers.*` from `rows` (search: id prefix, pages of `limit`) and fixtures. */
export function fakeCustomersServer(
  rows: CustomerRow[],
  extra: Record<string, (input: unknown) => unknown> = {},
) {
  const handlers: Handlers = {
    "customers.search": (input) => {
      const { query, limit, cursor } = input as { query: string; limit: number; cursor?: string };
      const hits = rows.filter((r) => r.externalId.startsWith(query));
      const start = cursor ? Number(cursor) : 0;
      const next = start + limit;
      return {
        by: "id",
        items: hits.slice(start, next),
        nextCursor: next < hits.length ? String(next) : null,
      };
    },
    "customers.get": (input) => {
      if ((input as { id: string }).id !== "c001")
        throw new ApiError("NOT_FOUND", "No customer with that id in this workspace.");
      return profile();
    },
    "customers.timeline": () => timeline,
    "customers.runs": () => runs,
    "customers.message": () => message,
    "customers.erase": (input) => {
      const { confirmExternalId } = input as { id: string; confirmExternalId: string };
      if (confirmExternalId !== "user-001")
        throw new ApiError("BAD_REQUEST", "Type the customer's id exactly as shown.");
      return { erased: true, counts: {} };
    },
    ...extra,
  };
  const calls = stubTrpc(handlers);
  return { calls, callsTo: (path: string) => calls.filter((c) => c.path === path) };
}
