// issue 12: the account page, the reset-link page, the admin's "Reset password" action and the
// sign-up link, rendered in the whole app with the API's answers cached (no server).
import { render, screen } from "@testing-library/react";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { afterEach, describe, expect, it } from "vitest";
import type { Me } from "../api/contract.ts";
import { App } from "../App.tsx";
import { parseHash } from "../router.tsx";
import type { AppRouter } from "../trpc.ts";
import { makeQueryClient, makeTrpcClient } from "../trpc.ts";
import { fieldMessage } from "./PasswordField.tsx";
import { resetLookupKey } from "./ResetPage.tsx";

const admin: Me = {
  id: "u1",
  email: "ada@example.com",
  name: "Ada",
  role: "ADMIN",
  workspace: { id: "w1", name: "Shop" },
};

function renderAt(
  hash: string,
  me: Me | null,
  seed: (
    set: (key: readonly unknown[], data: unknown) => void,
    trpc: ReturnType<typeof createTRPCOptionsProxy<AppRouter>>,
  ) => void = () => undefined,
) {
  window.location.hash = hash;
  const queryClient = makeQueryClient();
  queryClient.setDefaultOptions({ queries: { staleTime: Infinity, retry: false } });
  const trpcClient = makeTrpcClient("http://127.0.0.1:9/trpc");
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
  queryClient.setQueryData(trpc.auth.me.queryKey(), me);
  seed((key, data) => queryClient.setQueryData(key, data), trpc);
  return render(<App trpcClient={trpcClient} queryClient={queryClient} />);
}

afterEach(() => {
  window.location.hash = "";
});

describe("issue 12: account pages", () => {
  it("parses the account, reset and sign-up routes", () => {
    expect(parseHash("#/account")).toEqual({ page: "account" });
    expect(parseHash("#/reset/rst_a%2Fb")).toEqual({ page: "reset", token: "rst_a/b" });
    expect(parseHash("#/signup")).toEqual({ page: "signup" });
  });

  it("the account page asks for the current and a new password; owners also see workspace creation", async () => {
    renderAt("#/account", admin, (set, trpc) => set(trpc.workspaces.canCreate.queryKey(), true));
    expect(await screen.findByRole("heading", { name: "Change your password" })).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>("Current password").type).toBe("password");
    expect(screen.getByLabelText<HTMLInputElement>("New password").autocomplete).toBe(
      "new-password",
    );
    expect(screen.getByRole("heading", { name: "Create a workspace" })).toBeTruthy();
    // The header links to this page.
    expect(screen.getByRole("link", { name: "Account" }).getAttribute("href")).toBe("#/account");
  });

  it("non-owners see no workspace creation", async () => {
    renderAt("#/account", admin, (set, trpc) => set(trpc.workspaces.canCreate.queryKey(), false));
    expect(await screen.findByRole("heading", { name: "Change your password" })).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Create a workspace" })).toBeNull();
  });

  it("a reset link works without a session and names the account", async () => {
    renderAt("#/reset/rst_token_123", null, (set) =>
      set(resetLookupKey("rst_token_123"), {
        email: "mo@example.com",
        name: "Mo",
        expiresAt: "2026-12-01T00:00:00.000Z",
      }),
    );
    expect(await screen.findByText(/mo@example.com/)).toBeTruthy();
    expect(screen.getByLabelText("New password")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Set password" })).toBeTruthy();
  });

  it("admins get a Reset password action for everyone but themselves", async () => {
    renderAt("#/admin/users", admin, (set, trpc) => {
      set(trpc.users.list.queryKey(), [
        {
          id: "u1",
          email: "ada@example.com",
          name: "Ada",
          role: "ADMIN",
          createdAt: "2026-11-01T10:00:00.000Z",
        },
        {
          id: "u2",
          email: "mo@example.com",
          name: "Mo",
          role: "MARKETER",
          createdAt: "2026-11-01T10:00:00.000Z",
        },
      ]);
      set(trpc.invites.list.queryKey(), []);
    });
    expect(await screen.findByRole("button", { name: "Reset password" })).toBeTruthy();
    expect(screen.getAllByRole("button", { name: "Reset password" })).toHaveLength(1);
  });

  it("the sign-in page offers sign-up only when the server allows it", async () => {
    const off = renderAt("", null, (set, trpc) =>
      set(trpc.auth.settings.queryKey(), { signUp: false }),
    );
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: /Create a workspace/ })).toBeNull();
    off.unmount();
    renderAt("", null, (set, trpc) => set(trpc.auth.settings.queryKey(), { signUp: true }));
    expect(
      (await screen.findByRole("link", { name: /Create a workspace/ })).getAttribute("href"),
    ).toBe("#/signup");
  });

  it("reads the server's message for one field", () => {
    const error = {
      message: "x",
      data: {
        fieldErrors: [{ path: "newPassword", message: "This password is too easy to guess." }],
      },
    };
    expect(fieldMessage(error, "newPassword")).toBe("This password is too easy to guess.");
    expect(fieldMessage(error, "currentPassword")).toBeNull();
    expect(fieldMessage(null, "newPassword")).toBeNull();
  });
});
