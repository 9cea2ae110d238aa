// issue 16: the Customers area against a fake API at the HTTP boundary (testServer.ts) — search
// with more rows on request, the profile's tabs, a run's trace in words with the message as sent
// (in a sandboxed frame), and erasure behind typing the customer's id (admins only).
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatDateTime } from "../format.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import { customerRow, fakeCustomersServer } from "./testServer.ts";

const admin = { ...marketer, id: "u2", role: "ADMIN" as const, name: "Ann Admin" };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Customers area", () => {
  it("searches, shows the results in a table and loads more on request", async () => {
    const server = fakeCustomersServer([...Array(30)].map((_, i) => customerRow(i + 1)));
    window.location.hash = "#/customers";
    renderApp({ me: marketer });
    const nav = await screen.findByRole("navigation", { name: "Main" });
    expect(within(nav).getByRole("link", { name: "Customers" }).getAttribute("aria-current")).toBe(
      "page",
    );
    fireEvent.change(await screen.findByLabelText("Search"), { target: { value: " user-0 " } });
    fireEvent.change(screen.getByLabelText("Search by"), { target: { value: "id" } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    const table = await screen.findByRole("table");
    expect(within(table).getAllByRole("row")).toHaveLength(26);
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent),
    ).toEqual(["Customer id", "Name", "Email", "Phone", "Profile updated"]);
    const first = within(table).getAllByRole("row")[1]!;
    expect(within(first).getByRole("link", { name: "user-001" }).getAttribute("href")).toBe(
      "#/customers/c001",
    );
    expect(within(first).getByText("Ada Lovelace")).toBeTruthy();
    expect(screen.getByText(/25\+ customers \(searched by customer id\)/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Show more" }));
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(31));
    expect(screen.queryByRole("button", { name: "Show more" })).toBeNull();
    expect(server.callsTo("customers.search").map((c) => c.input)).toEqual([
      expect.objectContaining({ query: "user-0", by: "id", limit: 25 }),
      expect.objectContaining({ query: "user-0", by: "id", limit: 25, cursor: "25" }),
    ]);
  });

  it("shows the profile, the timeline and each run's trace with the message as sent", async () => {
    fakeCustomersServer([]);
    window.location.hash = "#/customers/c001";
    renderApp({ me: marketer });
    expect(await screen.findByRole("heading", { name: "Ada Lovelace", level: 1 })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Erase/ })).toBeNull();
    const consent = screen.getByRole("table");
    const email = within(consent).getByRole("row", { name: /Email/ });
    expect(within(email).getByText("Unsubscribed")).toBeTruthy();
    expect(within(email).getByText("unsubscribe link")).toBeTruthy();
    const sms = within(consent).getByRole("row", { name: /SMS/ });
    expect(within(sms).getByText("Never asked")).toBeTruthy();
    expect(screen.getByText("vip")).toBeTruthy();
    expect(screen.getByText("gold")).toBeTruthy();

    fireEvent.mouseDown(screen.getByRole("tab", { name: "Timeline" }));
    const events = await screen.findByRole("list", { name: "Events, newest first" });
    expect(within(events).getAllByRole("listitem")[0]?.textContent).toContain("purchase");
    expect(within(events).getByText("49.5")).toBeTruthy();

    fireEvent.mouseDown(screen.getByRole("tab", { name: "Journeys" }));
    const trace = await screen.findByRole("list", { name: "What happened in Welcome series" });
    expect(
      within(trace)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual([
      expect.stringContaining("Signed upEntered the journey at “Signed up”"),
      expect.stringContaining("Is a gold member?Took the “yes” path → “Gold welcome”"),
      // A wait's end in local time, like every other time in the app (walk: it said UTC).
      expect.stringContaining(
        `Short pauseWaiting 30 seconds until ${formatDateTime("2026-11-01T09:00:32.000Z")}`,
      ),
      expect.stringContaining("Gold welcomeSent the email"),
    ]);
    expect(screen.queryByText(/split\.branch|messageId|\{"/)).toBeNull();
    const sent = screen.getByRole("list", { name: "Messages in Welcome series" });
    expect(within(sent).getByRole("listitem").textContent).toContain(
      "Gold welcomeemail to ada@example.com · Sent",
    );
    fireEvent.click(within(trace).getByRole("button", { name: "View message" }));
    const dialog = await screen.findByRole("dialog", { name: "Email" });
    await within(dialog).findByText("Welcome, Ada");
    const frame = within(dialog).getByTitle<HTMLIFrameElement>("The email as sent");
    // Sandboxed with no permissions (no scripts, no same-origin), remote loads blocked.
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toContain("<p>Hi <b>Ada</b></p>");
    expect(frame.getAttribute("srcdoc")).toContain("default-src 'none'");
    // Never injected into the app's own document.
    expect(
      document.querySelector("script[src], body > script, .customers__message script"),
    ).toBeNull();
    expect((window as { stolen?: number }).stolen).toBeUndefined();
    fireEvent.click(within(dialog).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog", { name: "Email" })).toBeNull();
  });

  it("lets an admin erase a customer only after typing their id", async () => {
    const server = fakeCustomersServer([]);
    window.location.hash = "#/customers/c001";
    renderApp({ me: admin });
    fireEvent.click(await screen.findByRole("button", { name: "Erase customer…" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Erase Ada Lovelace?" });
    const erase = within(dialog).getByRole("button", { name: "Erase for good" });
    expect(erase.hasAttribute("disabled")).toBe(true);
    const input = within(dialog).getByLabelText(/Type the customer id/);
    fireEvent.change(input, { target: { value: "user-01" } });
    expect(erase.hasAttribute("disabled")).toBe(true);
    fireEvent.change(input, { target: { value: "user-001" } });
    expect(erase.hasAttribute("disabled")).toBe(false);
    fireEvent.click(erase);
    await waitFor(() => expect(window.location.hash).toBe("#/customers"));
    expect(server.callsTo("customers.erase").map((c) => c.input)).toEqual([
      { id: "c001", confirmExternalId: "user-001" },
    ]);
  });

  it("says in words when the customer is not there (erased or never seen)", async () => {
    fakeCustomersServer([]);
    window.location.hash = "#/customers/c999";
    renderApp({ me: marketer });
    expect((await screen.findByRole("alert")).textContent).toContain(
      "does not exist here (erased, or never seen)",
    );
  });
});
