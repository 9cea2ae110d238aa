// Orders & revenue (admin tab): the settings load, the purchase event's properties are picked from
// what the workspace has seen, the currency is chosen with an example, and saving sends them;
// the server's refusal is shown with the field it names. A fake API at the HTTP boundary.
import { CUSTOMER_FIELDS } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Me, WorkspaceCatalog } from "../api/contract.ts";
import { renderApp } from "../test/renderApp.tsx";
import { ApiError, stubTrpc } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";

const admin: Me = { ...marketer, role: "ADMIN" };

afterEach(() => {
  vi.unstubAllGlobals();
  window.location.hash = "";
});

/** What the workspace has seen (renderApp answers `journeys.catalog` with it). */
const catalog: WorkspaceCatalog = {
  customerFields: [...CUSTOMER_FIELDS],
  attributes: [],
  eventProperties: { order_placed: ["amount", "ref"], page_view: ["url"] },
};

function fakeServer(refuse?: string) {
  let stored = {
    purchaseEvent: "purchase",
    revenueProperty: "revenue",
    orderIdProperty: "order_id",
    trackOpens: false,
    currency: "USD",
  };
  const calls = stubTrpc({
    "auth.me": () => admin,
    "analytics.settings": () => ({ ...stored, rule: "A conversion counts when…" }),
    "analytics.updateSettings": (input) => {
      if (refuse) throw new ApiError("BAD_REQUEST", refuse);
      stored = input as typeof stored;
      return { ...stored, rule: "" };
    },
  });
  return { calls, stored: () => stored };
}

/** Opens a name picker from the keyboard; the options it lists. */
async function open(field: string) {
  fireEvent.keyDown(screen.getByRole("combobox", { name: field }), { key: "ArrowDown" });
  return within(await screen.findByRole("listbox")).getAllByRole("option");
}

async function choose(field: string, option: RegExp) {
  await open(field);
  const list = screen.getByRole("listbox");
  fireEvent.click(within(list).getByRole("option", { name: option }));
  await waitFor(() => expect(screen.queryByRole("listbox")).toBeNull());
}

describe("admin: Orders & revenue", () => {
  it("picks the purchase event and its properties from what was seen, chooses a currency, saves", async () => {
    const server = fakeServer();
    window.location.hash = "#/admin/revenue";
    renderApp({ me: admin, catalog });
    expect(await screen.findByRole("heading", { name: "Orders & revenue" })).toBeTruthy();
    const event = await screen.findByRole("combobox", { name: "Purchase event" });
    expect(event.textContent).toBe("purchase");

    await choose("Purchase event", /^order_placed/);
    expect(event.textContent).toBe("order_placed");
    // The properties offered are the chosen event's.
    const offered = await open("Order amount (property of the purchase event)");
    expect(offered.map((o) => o.textContent).slice(0, 2)).toEqual(["amount", "ref"]);
    fireEvent.click(screen.getByRole("option", { name: /^amount/ }));
    await waitFor(() => expect(screen.queryByRole("listbox")).toBeNull());
    await choose("Order number (property of the purchase event)", /^ref/);

    const currency = screen.getByRole("combobox", { name: "Currency" });
    expect((currency as HTMLSelectElement).value).toBe("USD");
    fireEvent.change(currency, { target: { value: "EUR" } });
    expect(screen.getByText(/Revenue is shown as/).textContent).toMatch(
      /€\s?1,234\.50|1[.,]234,50\s?€/,
    );
    fireEvent.click(screen.getByRole("checkbox", { name: /Count email opens/ }));
    fireEvent.click(screen.getByRole("button", { name: "Save order settings" }));

    expect(await screen.findByRole("status")).toHaveProperty("textContent", "Saved.");
    expect(server.stored()).toEqual({
      purchaseEvent: "order_placed",
      revenueProperty: "amount",
      orderIdProperty: "ref",
      currency: "EUR",
      trackOpens: true,
    });
  });

  it("shows the server's refusal, naming the field", async () => {
    fakeServer("Currency: “XXX” is not a currency code such as EUR or USD.");
    window.location.hash = "#/admin/revenue";
    renderApp({ me: admin });
    fireEvent.click(await screen.findByRole("button", { name: "Save order settings" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Currency: “XXX”");
  });
});
