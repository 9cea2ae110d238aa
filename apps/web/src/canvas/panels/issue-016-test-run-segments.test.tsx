// Issue 16: the editor's test run counts the customer's saved segments and lifecycle stage as the
// engine does. A journey that starts when customers enter "Gold customers" and splits on "lifecycle
// stage is At risk": the sample customer (in no segment) does not enter; a real customer loaded by
// email (journeys.testCustomer, answered at the HTTP boundary) comes with their segments by name
// and their stage, and takes the "Yes" path; segments and stage typed by name work too.
import { CUSTOMER_FIELDS, JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { JourneyDetail, WorkspaceCatalog } from "../../api/contract.ts";
import type { SegmentRow } from "../../segments-area/contract.ts";
import { renderApp } from "../../test/renderApp.tsx";
import { ApiError, stubTrpc } from "../../test/trpcStub.ts";
import { marketer } from "../../test/users.ts";
import { useEditorStore } from "../store.ts";

const row = (s: Partial<SegmentRow> & Pick<SegmentRow, "id" | "name">): SegmentRow => ({
  description: "",
  kind: "custom",
  stage: null,
  members: 0,
  rules: [],
  match: "all",
  updatedAt: "2026-12-01T10:00:00.000Z",
  ...s,
});
const segments: SegmentRow[] = [
  row({ id: "s-gold", name: "Gold customers", members: 12 }),
  row({ id: "s-risk", name: "Lifecycle: At risk", kind: "lifecycle", stage: "at_risk" }),
];
const catalog: WorkspaceCatalog = {
  customerFields: [...CUSTOMER_FIELDS],
  segments: segments.map((s) => s.id),
};

const draft = JourneyDraft.parse({
  schemaVersion: 1,
  settings: {},
  nodes: [
    {
      id: "trigger",
      type: "trigger.segment",
      position: { x: 0, y: 0 },
      data: { segmentId: "s-gold", on: "enter" },
    },
    {
      id: "split",
      type: "split.condition",
      position: { x: 0, y: 150 },
      data: {
        label: "At risk?",
        conditions: [{ property: "customer.lifecycle_stage", op: "eq", value: "at_risk" }],
        match: "all",
      },
    },
    {
      id: "email",
      type: "action.email",
      position: { x: -150, y: 300 },
      data: { subject: "We miss you {{ first_name }}", body: "Come back" },
    },
    { id: "exit", type: "flow.exit", position: { x: 150, y: 300 }, data: {} },
  ],
  edges: [
    { id: "e1", source: "trigger", target: "split" },
    { id: "e2", source: "split", sourceHandle: "yes", target: "email" },
    { id: "e3", source: "split", sourceHandle: "no", target: "exit" },
    { id: "e4", source: "email", target: "exit" },
  ],
});
const journey: JourneyDetail = {
  id: "j16t",
  name: "Win back gold customers",
  status: "DRAFT",
  draft,
  draftRevision: 1,
  liveVersion: null,
  updatedAt: "2026-12-01T10:00:00.000Z",
};

const grace = {
  customer: {
    id: "c-grace",
    externalId: "grace-7",
    email: "grace@shop.test",
    phone: null,
    timezone: "Europe/Paris",
    attributes: { first_name: "Grace" },
    tags: [],
    segments: ["s-gold", "s-risk"],
    lifecycleStage: "at_risk",
  },
  segmentNames: ["Gold customers"],
};

function server() {
  return stubTrpc({
    "auth.me": () => marketer,
    "journeys.get": () => journey,
    "journeys.catalog": () => catalog,
    "segments.list": () => segments,
    "journeys.testCustomer": (input) => {
      const q = (input as { customer: string }).customer;
      if (q === "grace@shop.test") return grace;
      throw new ApiError(
        "NOT_FOUND",
        `customer: no customer with the id or email “${q}” in this workspace.`,
      );
    },
  });
}

const path = () => useEditorStore.getState().highlight?.path;

async function openTestRun() {
  window.location.hash = "#/journeys/j16t";
  renderApp({ me: marketer, journey, catalog, segments });
  fireEvent.click(await screen.findByRole("tab", { name: "Test run" }));
  return within(screen.getByRole("region", { name: "Test run" }));
}

describe("issue 16: the test run counts segments and lifecycle stages", () => {
  it("a real customer comes with their segments and stage and takes the engine's path", async () => {
    const calls = server();
    const panel = await openTestRun();

    // The sample customer is in no segment: they do not enter.
    fireEvent.click(panel.getByRole("button", { name: "Run test" }));
    expect(panel.getByRole("alert").textContent).toBe(
      "The customer did not enter: the customer is not in the segment (trigger: Segment entry).",
    );
    expect(path()).toBeUndefined();

    fireEvent.click(panel.getByRole("button", { name: "Use a real customer…" }));
    const id = panel.getByRole("textbox", { name: "Real customer’s id or email" });
    fireEvent.change(id, { target: { value: "nobody@shop.test" } });
    fireEvent.click(panel.getByRole("button", { name: "Load customer" }));
    const notFound = await panel.findByText(
      "no customer with the id or email “nobody@shop.test” in this workspace.",
    );
    expect(notFound.getAttribute("role")).toBe("alert");

    fireEvent.change(id, { target: { value: "grace@shop.test" } });
    fireEvent.click(panel.getByRole("button", { name: "Load customer" }));
    await waitFor(() =>
      expect(panel.getByRole("status").textContent).toBe(
        "Loaded Grace: in segment “Gold customers”, lifecycle stage At risk — as the workspace has them now.",
      ),
    );
    expect(calls.filter((c) => c.path === "journeys.testCustomer").map((c) => c.input)).toEqual([
      { customer: "nobody@shop.test" },
      { customer: "grace@shop.test" },
    ]);
    const customer = panel.getByRole<HTMLTextAreaElement>("textbox", {
      name: "Test customer (JSON)",
    });
    expect(JSON.parse(customer.value)).toMatchObject({
      externalId: "grace-7",
      segments: ["Gold customers"],
      lifecycle_stage: "at_risk",
    });

    fireEvent.click(panel.getByRole("button", { name: "Run test" }));
    const timeline = await screen.findByRole("region", { name: "Test run timeline" });
    expect(path()).toEqual(["trigger", "split", "email", "exit"]);
    expect(timeline.textContent).toContain("At risk?: Took the “Yes” path");
    expect(timeline.textContent).toContain("We miss you Grace");
  });

  it("segments and the stage typed by name count too; an unknown segment says so", async () => {
    server();
    const panel = await openTestRun();
    const customer = panel.getByRole<HTMLTextAreaElement>("textbox", {
      name: "Test customer (JSON)",
    });
    // The sample starts with no segment and no stage, ready to be filled in.
    expect(JSON.parse(customer.value)).toMatchObject({ segments: [], lifecycle_stage: null });
    const typed = (segments: string[], stage: string) =>
      fireEvent.change(customer, {
        target: {
          value: JSON.stringify({
            externalId: "ann",
            attributes: { first_name: "Ann" },
            segments,
            lifecycle_stage: stage,
          }),
        },
      });

    typed(["Gold customers"], "Active");
    fireEvent.click(panel.getByRole("button", { name: "Run test" }));
    await screen.findByRole("region", { name: "Test run timeline" });
    expect(path()).toEqual(["trigger", "split", "exit"]);

    typed(["Gold customers"], "At risk");
    fireEvent.click(panel.getByRole("button", { name: "Run test" }));
    await waitFor(() => expect(path()).toEqual(["trigger", "split", "email", "exit"]));

    typed(["Platinum"], "At risk");
    fireEvent.click(panel.getByRole("button", { name: "Run test" }));
    expect(panel.getByRole("alert").textContent).toContain(
      "The customer's segments name “Platinum”, which is not a saved segment of this workspace.",
    );
  });
});
