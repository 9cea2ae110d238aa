// issue 16: the Segments area against a fake API at the HTTP boundary (testServer.ts) — the nav
// link, building a segment with rules in words while the size preview follows, saving it, and
// the lifecycle stages' rules stated in words and tuned.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { CUSTOMER_FIELDS } from "@postpath/journey";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WorkspaceCatalog } from "../api/contract.ts";
import { triggerViews } from "../canvas/steps/trigger.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { customerRow, fakeCustomersServer } from "../customers-area/testServer.ts";
import { fakeSegmentsServer } from "./testServer.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

/** What the workspace has seen (`journeys.catalog`), for the name pickers. */
const catalog: WorkspaceCatalog = {
  attributes: ["first_name", "tier"],
  eventProperties: { purchase: ["order_id", "revenue"], page_view: ["url"] },
  attributeDetails: {
    first_name: { types: ["string"], examples: ["Ada"] },
    tier: { types: ["string"], examples: ["gold", "silver"] },
  },
  eventDetails: {
    purchase: {
      sampled: 120,
      properties: {
        order_id: { types: ["string"], examples: ["o-1"] },
        revenue: { types: ["number"], examples: ["149", "20"] },
      },
    },
    page_view: { sampled: 880, properties: { url: { types: ["string"], examples: ["/"] } } },
  },
  eventSample: 1000,
  customerFields: [...CUSTOMER_FIELDS],
};

/** The open picker's options (not the <select>s' own). */
const optionTexts = () =>
  within(screen.getByRole("listbox"))
    .getAllByRole("option")
    .map((o) => o.textContent);

/** Opens a rule's name picker and chooses `name` from the keyboard (typed, then Enter). */
async function pick(field: string, name: string) {
  const trigger = screen.getByRole("combobox", { name: field });
  fireEvent.keyDown(trigger, { key: "ArrowDown" });
  await screen.findByRole("listbox");
  const input = screen.getAllByRole("combobox").find((e) => e.tagName === "INPUT");
  if (!input) throw new Error("no search field in the open picker");
  fireEvent.change(input, { target: { value: name } });
  fireEvent.keyDown(input, { key: "Enter" });
  await waitFor(() => expect(screen.queryByRole("listbox")).toBeNull());
  expect(trigger.textContent).toBe(name);
}

const customers = [...Array(30)].map((_, i) => ({
  id: `c${i}`,
  externalId: `user-${i}`,
  email: `u${i}@shop.test`,
  attributes: { tier: i < 24 ? "gold" : "silver" },
}));

describe("Segments area", () => {
  it("builds a segment in words, previews its size and sample, and saves it", async () => {
    const server = fakeSegmentsServer(customers);
    window.location.hash = "#/segments";
    renderApp({ me: marketer, catalog });
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getByRole("link", { name: "Segments" }).getAttribute("aria-current")).toBe(
      "page",
    );
    expect(await screen.findByText(/No segments yet/)).toBeTruthy();
    fireEvent.click(screen.getByRole("link", { name: "New segment" }));

    // The first rule is a behaviour in words: has done purchase at least 1 times in the last 90 days.
    const kind = await screen.findByLabelText("Rule 1 kind");
    expect(screen.getByRole("combobox", { name: "Rule 1 event" }).textContent).toBe("purchase");
    expect(
      within(screen.getByLabelText("Rule 1 how many"))
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["at least", "more than", "at most", "fewer than", "exactly"]);
    expect(screen.getByLabelText<HTMLInputElement>("Rule 1 days").value).toBe("90");
    fireEvent.change(kind, { target: { value: "attribute" } });
    await pick("Rule 1 attribute", "tier");
    expect(
      within(screen.getByLabelText("Rule 1 comparison"))
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toContain("is at least");
    fireEvent.change(screen.getByLabelText("Rule 1 value"), { target: { value: "gold" } });
    const preview = screen.getByRole("complementary", { name: "Size preview" });
    await waitFor(() => expect(within(preview).getByText("24")).toBeTruthy());
    expect(within(preview).getAllByRole("link")).toHaveLength(20);
    expect(within(preview).getByRole("link", { name: "user-0" }).getAttribute("href")).toBe(
      "#/customers/c0",
    );
    // The preview asked the server with the rule as edited.
    expect(server.callsTo("segments.preview").at(-1)?.input).toMatchObject({
      definition: {
        match: "all",
        rules: [{ kind: "attribute", property: "tier", op: "eq", value: "gold" }],
      },
    });

    // An unfinished rule shows why, and the segment cannot be saved yet.
    fireEvent.click(screen.getByRole("button", { name: "Add a rule" }));
    expect(screen.getByText("Choose an attribute.")).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Create segment" }).disabled).toBe(
      true,
    );
    fireEvent.click(screen.getByRole("button", { name: "Remove rule 2" }));

    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Gold customers" } });
    fireEvent.click(screen.getByRole("button", { name: "Create segment" }));
    await waitFor(() => expect(window.location.hash).toBe("#/segments/s1"));
    expect(server.segments[0]).toMatchObject({ name: "Gold customers", members: 24 });

    // A print run from the saved segment: links for every member, then the printer's files.
    // The landing page is chosen by name from the workspace's pages (walk 2026-12-05: it was a
    // free-text address); a draft says it is not published yet.
    const landing = await screen.findByRole("combobox", { name: "Landing page" });
    await waitFor(() =>
      expect(
        within(landing)
          .getAllByRole("option")
          .map((o) => o.textContent),
      ).toEqual(["Choose a page", "Register your machine", "Winter offer (not published yet)"]),
    );
    expect(
      screen.getByRole<HTMLButtonElement>("button", { name: "Make personal URLs" }).disabled,
    ).toBe(true);
    fireEvent.change(landing, { target: { value: "register" } });
    fireEvent.change(screen.getByLabelText("Mail drop name"), { target: { value: "winter" } });
    fireEvent.click(screen.getByRole("button", { name: "Make personal URLs" }));
    expect((await screen.findByRole("link", { name: "Download CSV" })).getAttribute("href")).toBe(
      "/exports/segments/s1/drops/winter/pages/register/purls.csv",
    );
    expect(screen.getByRole("link", { name: "Download PDF proof" }).getAttribute("href")).toBe(
      "/exports/segments/s1/drops/winter/pages/register/proof.pdf",
    );
    expect(server.callsTo("segments.mintPurls").at(-1)?.input).toEqual({
      id: "s1",
      page: "register",
      drop: "winter",
    });
    window.location.hash = "#/segments";
    expect(await screen.findByRole("link", { name: "Gold customers" })).toBeTruthy();
  });

  it("names events, properties and attributes with pickers of what the workspace has seen", async () => {
    const server = fakeSegmentsServer(customers);
    window.location.hash = "#/segments/new";
    renderApp({ me: marketer, catalog });
    const event = await screen.findByRole("combobox", { name: "Rule 1 event" });
    expect(event.textContent).toBe("purchase");
    // The seen events, the most frequent first, with how often they were sampled.
    fireEvent.keyDown(event, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "page_view880 of 1,000 sampled events",
      "purchase120 of 1,000 sampled events",
    ]);
    fireEvent.keyDown(screen.getByRole("combobox", { name: "Choose an event" }), {
      key: "Escape",
    });
    await pick("Rule 1 event", "page_view");
    expect(screen.queryByText(/Never seen yet/)).toBeNull();

    // A name nobody has sent yet is kept, with a warning linked to the field.
    const input = await (async () => {
      fireEvent.click(event);
      return screen.findByRole("combobox", { name: "Choose an event" });
    })();
    fireEvent.change(input, { target: { value: "machine_registered" } });
    await waitFor(() =>
      expect(optionTexts()).toEqual(["Use “machine_registered” — never seen yet"]),
    );
    fireEvent.keyDown(input, { key: "Enter" });
    const warning = await screen.findByText(/Never seen yet: no event called “machine_registered”/);
    expect(event.getAttribute("aria-describedby")).toContain(warning.id);

    // Adding up a property: the properties seen on the rule's event, with kinds and examples.
    await pick("Rule 1 event", "purchase");
    fireEvent.change(screen.getByLabelText("Rule 1 measure"), { target: { value: "sum" } });
    const property = screen.getByRole("combobox", { name: "Rule 1 property to add up" });
    fireEvent.keyDown(property, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual(["order_idtexte.g. o-1", "revenuenumbere.g. 149, 20"]);
    fireEvent.keyDown(screen.getByRole("combobox", { name: "Choose a property" }), {
      key: "Escape",
    });
    await pick("Rule 1 property to add up", "revenue");

    // The rule sent for the preview names what was chosen.
    await waitFor(() =>
      expect(server.callsTo("segments.preview").at(-1)?.input).toMatchObject({
        definition: {
          rules: [{ kind: "event", event: "purchase", measure: "sum", property: "revenue" }],
        },
      }),
    );
  });

  it("states the lifecycle rules in words and saves tuned thresholds", async () => {
    const server = fakeSegmentsServer([]);
    window.location.hash = "#/segments";
    renderApp({ me: marketer, catalog });
    expect(
      await screen.findByText(/the last purchase was between 90 and 180 days ago/),
    ).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Lapsed: no purchase for (days)"), {
      target: { value: "200" },
    });
    // The purchase event is a picker of the events seen (issue 16); a new one is flagged.
    const event = screen.getByRole("combobox", { name: "Purchase event" });
    expect(event.textContent).toBe("purchase");
    fireEvent.keyDown(event, { key: "ArrowDown" });
    await screen.findByRole("listbox");
    expect(optionTexts()).toEqual([
      "page_view880 of 1,000 sampled events",
      "purchase120 of 1,000 sampled events",
    ]);
    fireEvent.keyDown(screen.getByRole("combobox", { name: "Choose an event" }), {
      key: "Escape",
    });
    await pick("Purchase event", "order_completed");
    expect(screen.getByText(/Never seen yet: no event called “order_completed”/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Switch on lifecycle stages" }));
    await waitFor(() => expect(server.callsTo("segments.lifecycle.set")).toHaveLength(1));
    expect(server.callsTo("segments.lifecycle.set")[0]?.input).toMatchObject({
      event: "order_completed",
      lapsedDays: 200,
    });
  });
});

describe("a customer's profile", () => {
  it("shows the lifecycle stage and the saved segments the customer is in", async () => {
    const server = fakeCustomersServer([customerRow(1)], {
      "segments.ofCustomer": () => ({
        stage: "at_risk",
        segments: [
          {
            id: "l4",
            name: "Lifecycle: At risk",
            kind: "lifecycle",
            stage: "at_risk",
            since: "2026-11-02T00:00:00.000Z",
          },
          {
            id: "s1",
            name: "Gold customers",
            kind: "custom",
            stage: null,
            since: "2026-11-03T00:00:00.000Z",
          },
        ],
      }),
    });
    window.location.hash = "#/customers/c001";
    renderApp({ me: marketer });
    const section = await screen.findByRole("region", { name: "Segments" });
    expect(await within(section).findByText("At risk")).toBeTruthy();
    expect(within(section).getByRole("link", { name: "Gold customers" }).getAttribute("href")).toBe(
      "#/segments/s1",
    );
    expect(within(section).queryByText("Lifecycle: At risk")).toBeNull();
    expect(server.callsTo("segments.ofCustomer")[0]?.input).toEqual({ customerId: "c001" });
  });
});

describe("the canvas's segment trigger", () => {
  it("summarises a saved segment's entry or exit, and still the inline conditions", () => {
    const view = triggerViews["trigger.segment"];
    expect(view.summary({ segmentId: "s1", on: "enter", conditions: [] })).toBe(
      "Enters a saved segment",
    );
    expect(view.summary({ segmentId: "s1", on: "leave", conditions: [] })).toBe(
      "Leaves a saved segment",
    );
    expect(
      view.summary({ conditions: [{ property: "tier", op: "eq", value: "gold" }], match: "all" }),
    ).toMatch(/^Segment: tier/);
  });
});
