// Walk 2026-12-05: Admin > Users listed roles as the stored values ("admin", "marketer",
// "viewer") and dates in the browser's own format ("12/5/2026, 12:50:27 AM") where the rest of
// the app says "Dec 5, 2026, 12:50 AM". Roles are now words, dates as everywhere else.
import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { formatDateTime } from "../format.ts";
import { stubTrpc } from "../test/trpcStub.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

const admin = { ...marketer, id: "u1", role: "ADMIN" as const, name: "Ada Admin" };
const joined = "2026-12-05T00:50:27.000Z";

afterEach(() => vi.unstubAllGlobals());

describe("Admin > Users in words", () => {
  it("names the roles and shows dates as the rest of the app does", async () => {
    stubTrpc({
      "users.list": () => [
        { id: "u1", name: "Ada Admin", email: admin.email, role: "ADMIN", createdAt: joined },
        {
          id: "u3",
          name: "Val Viewer",
          email: "val@example.com",
          role: "VIEWER",
          createdAt: joined,
        },
      ],
      "invites.list": () => [
        {
          id: "i1",
          email: "new@example.com",
          role: "MARKETER",
          createdAt: joined,
          expiresAt: "2099-01-01T00:00:00.000Z",
          acceptedAt: null,
          revokedAt: null,
        },
      ],
    });
    window.location.hash = "#/admin/users";
    renderApp({ me: admin });
    const role = await screen.findByRole("combobox", { name: "Role of val@example.com" });
    expect(
      within(role)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["Admin", "Marketer", "Viewer (read only)"]);
    expect((role as HTMLSelectElement).value).toBe("VIEWER"); // the value sent is unchanged
    const row = role.closest("tr")!;
    expect(within(row).getByText(formatDateTime(joined))).toBeTruthy();
    expect(within(row).queryByText(new Date(joined).toLocaleString())).toBeNull();
    const invites = await screen.findByRole("cell", { name: "new@example.com" });
    expect(within(invites.closest("tr")!).getByText("Marketer")).toBeTruthy();
  });
});
