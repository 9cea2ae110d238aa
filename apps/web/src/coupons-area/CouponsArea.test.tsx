// issue 16: the Coupons area against a fake API at the HTTP boundary (testServer.ts) — the pool
// list with codes left and used and the low-stock badge, "New pool" with the server's refusal of a
// taken name shown at the field, pasting codes and uploading a CSV file (sent in parts with the
// line each part starts at) with the result in words, renaming, a refused delete, and viewers
// seeing no editing controls. The pages are rendered on their own (the router wires them).
import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Me } from "../api/contract.ts";
import { marketer } from "../test/users.ts";
import { TRPCProvider, makeQueryClient, makeTrpcClient } from "../trpc.ts";
import { CouponPoolListPage } from "./CouponPoolListPage.tsx";
import { CouponPoolPage } from "./CouponPoolPage.tsx";
import { couponsHrefs, parseCouponsPath } from "./routes.ts";
import { fakeCouponsServer, type FakePool } from "./testServer.ts";
import { splitIntoParts } from "./upload.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

const viewer: Me = { ...marketer, id: "u2", role: "VIEWER", name: "Vic Viewer" };

function renderPage(page: ReactNode) {
  const queryClient = makeQueryClient();
  queryClient.setDefaultOptions({ queries: { retry: false } });
  const trpcClient = makeTrpcClient("http://127.0.0.1:9/trpc");
  return render(
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {page}
      </TRPCProvider>
    </QueryClientProvider>,
  );
}

const spring = (): FakePool => ({
  id: "p1",
  name: "Spring 20% off",
  codes: Array.from({ length: 1000 }, (_, i) => `SPR-${i}`),
  used: 950,
  usedBy: [{ journeyId: "j1", name: "Thank-you coupon", live: true }],
});

describe("Coupons area", () => {
  it("lists pools with codes left and used and a low-stock badge; creates a pool", async () => {
    const server = fakeCouponsServer(marketer, [
      spring(),
      {
        id: "p2",
        name: "Welcome",
        codes: Array.from({ length: 500 }, (_, i) => `W-${i}`),
        used: 0,
        usedBy: [],
      },
    ]);
    const created: string[] = [];
    renderPage(<CouponPoolListPage onCreated={(id) => created.push(id)} />);
    const table = await screen.findByRole("table", { name: "Coupon pools" });
    const rows = within(table).getAllByRole("row");
    const cells = (r: HTMLElement) =>
      [...r.querySelectorAll("th, td")].slice(0, 5).map((c) => c.textContent?.trim());
    expect(rows.map(cells)).toEqual([
      ["Pool", "Codes left", "Given out", "All codes", "Used by"],
      ["Spring 20% off", "50 Low stock", "950", "1,000", "Thank-you coupon"],
      ["Welcome", "500", "0", "500", "—"],
    ]);
    expect(within(table).getByRole("link", { name: "Spring 20% off" }).getAttribute("href")).toBe(
      "#/coupons/p1",
    );
    expect(within(table).getByRole("link", { name: "Thank-you coupon" }).getAttribute("href")).toBe(
      "#/journeys/j1",
    );

    // New pool: empty name refused here; a taken name refused by the server, next to the field.
    fireEvent.click(screen.getByRole("button", { name: "New pool" }));
    const dialog = await screen.findByRole("dialog", { name: "New coupon pool" });
    const name = within(dialog).getByLabelText("Name");
    fireEvent.click(within(dialog).getByRole("button", { name: "Create pool" }));
    expect(within(dialog).getByRole("alert").textContent).toBe("Give the pool a name.");
    fireEvent.change(name, { target: { value: " Welcome " } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create pool" }));
    expect((await within(dialog).findByRole("alert")).textContent).toBe(
      "A pool with this name already exists.",
    );
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(server.callsTo("coupons.create").map((c) => c.input)).toEqual([{ name: "Welcome" }]);
    fireEvent.change(name, { target: { value: "Autumn" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create pool" }));
    await waitFor(() => expect(created).toEqual(["pool3"]));
    expect(screen.queryByRole("dialog")).toBeNull();
    // The list shows it (asked again).
    expect(await screen.findByRole("link", { name: "Autumn" })).toBeTruthy();
  });

  it("adds pasted codes and an uploaded CSV, and says what happened in words", async () => {
    const server = fakeCouponsServer(marketer, [
      { id: "p1", name: "Welcome", codes: ["W-1"], used: 0, usedBy: [] },
    ]);
    renderPage(<CouponPoolPage id="p1" />);
    expect(await screen.findByRole("heading", { name: "Welcome" })).toBeTruthy();
    expect(screen.getByLabelText("Codes").textContent).toMatch(/^Codes left1 Low stockGiven out0/);

    fireEvent.change(screen.getByLabelText("Paste codes"), {
      target: { value: "Code\nW-1\nW-2\nW-2\nBAD CODE\n\nW-3" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add codes" }));
    const result = await screen.findByRole("status", { name: "Upload result" });
    expect(within(result).getByText(/^Added/).textContent).toBe(
      "Added 2 codes. 1 was already in the pool. 1 was repeated in your list (added once). The first line looked like a header and was skipped. 1 line was not a usable code and was skipped. The pool now has 3 of 3 codes left.",
    );
    expect(
      within(within(result).getByRole("list", { name: "Skipped lines" })).getByRole("listitem")
        .textContent,
    ).toBe("Line 5: BAD CODE — A code can't have spaces in it.");
    expect(server.callsTo("coupons.addCodes").map((c) => c.input)).toEqual([
      { id: "p1", text: "Code\nW-1\nW-2\nW-2\nBAD CODE\n\nW-3", firstLine: 1 },
    ]);
    // The figures are asked again.
    await waitFor(() => expect(screen.getByLabelText("Codes").textContent).toMatch(/Codes left3/));
    expect(screen.getByLabelText<HTMLTextAreaElement>("Paste codes").value).toBe("");

    // A file: read as text (a UTF-8 BOM and CRLF lines, as Excel saves CSV) and sent.
    const file = new File(["\uFEFFCode,Value\r\nW-4,10\r\nW-1,10\r\n"], "codes.csv", {
      type: "text/csv",
    });
    fireEvent.change(screen.getByLabelText("Upload a .csv or .txt file"), {
      target: { files: [file] },
    });
    await waitFor(() => expect(server.callsTo("coupons.addCodes")).toHaveLength(2));
    expect((await screen.findByRole("status", { name: "Upload result" })).textContent).toMatch(
      /^Added 1 code\. 1 was already in the pool\./,
    );
    expect(server.pools[0]?.codes).toEqual(["W-1", "W-2", "W-3", "W-4"]);
  });

  it("sends a big list in parts that each say where they start", () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `CODE-${String(i).padStart(8, "0")}`);
    const parts = splitIntoParts(lines.join("\n"), 100_000);
    expect(parts.length).toBe(Math.ceil((30_000 * 14) / 100_000));
    expect(parts.every((p) => new TextEncoder().encode(p.text).length <= 100_000)).toBe(true);
    expect(parts.flatMap((p) => p.text.split("\n"))).toEqual(lines);
    for (const p of parts) expect(p.text.split("\n")[0]).toBe(lines[p.firstLine - 1]);
  });

  it("refuses a list over 100,000 codes before sending anything", async () => {
    const server = fakeCouponsServer(marketer, [
      { id: "p1", name: "Welcome", codes: [], used: 0, usedBy: [] },
    ]);
    renderPage(<CouponPoolPage id="p1" />);
    await screen.findByRole("heading", { name: "Welcome" });
    fireEvent.change(screen.getByLabelText("Paste codes"), {
      target: { value: "A\n".repeat(100_002) },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add codes" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "This list has 100,002 lines: add at most 100,000 codes at a time. Split it into smaller lists.",
    );
    expect(server.callsTo("coupons.addCodes")).toHaveLength(0);
  });

  it("renames a pool, shows why a delete is refused, and deletes an unused pool", async () => {
    const server = fakeCouponsServer(marketer, [
      spring(),
      { id: "p2", name: "Welcome", codes: ["W-1"], used: 0, usedBy: [] },
    ]);
    const view = renderPage(<CouponPoolPage id="p1" />);
    await screen.findByRole("heading", { name: "Spring 20% off" });
    fireEvent.click(screen.getByRole("button", { name: "Rename…" }));
    let dialog = await screen.findByRole("dialog", { name: "Rename “Spring 20% off”" });
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "Welcome" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Rename" }));
    expect((await within(dialog).findByRole("alert")).textContent).toBe(
      "A pool with this name already exists.",
    );
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "Spring sale" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Rename" }));
    expect(await screen.findByRole("heading", { name: "Spring sale" })).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Delete…" }));
    dialog = await screen.findByRole("alertdialog", { name: "Delete “Spring sale”?" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Delete pool" }));
    expect((await within(dialog).findByRole("alert")).textContent).toMatch(
      /^950 codes were already given to customers from this pool/,
    );
    expect(server.pools).toHaveLength(2);
    view.unmount();

    const deleted: string[] = [];
    renderPage(<CouponPoolPage id="p2" onDeleted={() => deleted.push("p2")} />);
    await screen.findByRole("heading", { name: "Welcome" });
    fireEvent.click(screen.getByRole("button", { name: "Delete…" }));
    dialog = await screen.findByRole("alertdialog", { name: "Delete “Welcome”?" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Delete pool" }));
    await waitFor(() => expect(deleted).toEqual(["p2"]));
    expect(server.pools.map((p) => p.id)).toEqual(["p1"]);
  });

  it("viewers see the figures but no editing controls", async () => {
    fakeCouponsServer(viewer, [spring()]);
    renderPage(<CouponPoolListPage />);
    await screen.findByRole("table", { name: "Coupon pools" });
    await waitFor(() => expect(screen.queryByRole("button", { name: "New pool" })).toBeNull());
    const page = renderPage(<CouponPoolPage id="p1" />);
    await within(page.container).findByRole("heading", { name: "Spring 20% off" });
    expect(within(page.container).queryByLabelText("Paste codes")).toBeNull();
    expect(within(page.container).queryByRole("button", { name: "Rename…" })).toBeNull();
    expect(within(page.container).queryByRole("button", { name: "Delete…" })).toBeNull();
  });

  it("routes: #/coupons and #/coupons/<id>, round-tripping ids", () => {
    expect(parseCouponsPath("/coupons")).toEqual({ page: "coupons" });
    expect(parseCouponsPath(couponsHrefs.pool("a b/c").slice(1))).toEqual({
      page: "couponPool",
      id: "a b/c",
    });
    expect(parseCouponsPath("/coupons/x/y")).toBeNull();
    expect(parseCouponsPath("/couponsx")).toBeNull();
  });
});
