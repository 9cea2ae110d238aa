import { fireEvent, render, screen } from "@testing-library/react";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { afterEach, describe, expect, it } from "vitest";
import type { Me } from "../api/contract.ts";
import { App } from "../App.tsx";
import { inviteLookupKey } from "./InvitePage.tsx";
import { parseHash } from "../router.tsx";
import type { AppRouter } from "../trpc.ts";
import { makeQueryClient, makeTrpcClient } from "../trpc.ts";

const admin: Me = {
  id: "u1",
  email: "ada@example.com",
  name: "Ada",
  role: "ADMIN",
  workspace: { id: "w1", name: "Shop" },
};
const marketer: Me = { ...admin, id: "u2", email: "mo@example.com", role: "MARKETER" };

/** The whole app with the answers already cached; the client points at a closed port. */
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

describe("admin routes", () => {
  it("parses admin tabs and invite links; unknown tabs are not found", () => {
    expect(parseHash("#/admin")).toEqual({ page: "admin", tab: "users" });
    expect(parseHash("#/admin/api-keys")).toEqual({ page: "admin", tab: "api-keys" });
    expect(parseHash("#/admin/nope").page).toBe("notFound");
    expect(parseHash("#/invite/inv_a%2Fb")).toEqual({ page: "invite", token: "inv_a/b" });
  });
});

describe("admin pages", () => {
  it("lists credentials with only their last 4 characters, and the header links admins to Admin", async () => {
    renderAt("#/admin/credentials", admin, (set, trpc) =>
      set(trpc.credentials.list.queryKey(), [
        {
          id: "c1",
          kind: "SMTP",
          label: "Shop mail",
          last4: "x9Qz",
          createdAt: "2026-11-01T10:00:00.000Z",
          updatedAt: "2026-11-01T10:00:00.000Z",
          lastUsedAt: null,
          lastTestedAt: "2026-11-02T10:00:00.000Z",
          lastTestOk: true,
          lastTestDetail: "SMTP server accepted",
        },
      ]),
    );
    expect(await screen.findByText("Shop mail")).toBeTruthy();
    expect(screen.getByText("••••x9Qz")).toBeTruthy();
    expect(screen.getByText("✓ works")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Admin" })).toBeTruthy();
    // Adding opens a write-only form: the secret field is a password input.
    fireEvent.click(screen.getByRole("button", { name: "Add credential" }));
    expect(screen.getByLabelText<HTMLInputElement>("Password").type).toBe("password");
  });

  it("shows the delivery report addresses to paste into Twilio and SendGrid, and whether they are on (issue 17)", async () => {
    renderAt("#/admin/credentials", admin, (set, trpc) => {
      set(trpc.credentials.list.queryKey(), []);
      set(trpc.credentials.deliveryReports.queryKey(), {
        sms: { url: "https://pp.example/hooks/twilio/w1", credential: true, requested: true },
        email: {
          url: "https://pp.example/hooks/sendgrid/w1",
          credential: true,
          verificationKey: false,
        },
      });
    });
    expect((await screen.findByTestId("sms-report-url")).textContent).toBe(
      "https://pp.example/hooks/twilio/w1",
    );
    expect(screen.getByTestId("email-report-url").textContent).toBe(
      "https://pp.example/hooks/sendgrid/w1",
    );
    expect(screen.getByText(/^On: every text message asks Twilio/)).toBeTruthy();
    expect(screen.getByText(/^Off: in SendGrid's Event Webhook settings/)).toBeTruthy();
    // The SMS form asks Twilio for reports with a tick; the SMTP form takes SendGrid's key.
    fireEvent.change(screen.getByLabelText("Add"), { target: { value: "SMS" } });
    fireEvent.click(screen.getByRole("button", { name: "Add credential" }));
    expect(
      screen.getByLabelText<HTMLInputElement>(
        "Ask Twilio to report deliveries, failures and STOP replies",
      ).type,
    ).toBe("checkbox");
  });

  it("shows a marketer that administration is for admins, without an Admin link", async () => {
    renderAt("#/admin/users", marketer);
    expect((await screen.findByRole("alert")).textContent).toMatch(/Only admins/);
    expect(screen.queryByRole("link", { name: "Admin" })).toBeNull();
  });

  it("shows queue counts and dead letters with a replay button", async () => {
    renderAt("#/admin/dead-letters", admin, (set, trpc) =>
      set(trpc.admin.deadLetters.queryKey(), {
        items: [
          {
            messageId: "m1",
            journeyId: "j1",
            journeyName: "Thanks",
            runId: "r1",
            stepId: "s1",
            channel: "email",
            recipient: "a@example.com",
            customer: "cust-1",
            status: "DEAD",
            error: "SMTP 421",
            attempts: 8,
            createdAt: "2026-11-01T10:00:00.000Z",
            history: [],
            rendered: true,
          },
        ],
        nextCursor: null,
      }),
    );
    expect(await screen.findByText("SMTP 421")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Replay" })).toBeTruthy();
  });

  it("an invite link works without a session", async () => {
    renderAt("#/invite/inv_token_123", null, (set) =>
      set(inviteLookupKey("inv_token_123"), {
        email: "new@example.com",
        role: "VIEWER",
        workspace: "Shop",
        expiresAt: "2026-12-01T00:00:00.000Z",
      }),
    );
    expect(await screen.findByText(/You are invited to/)).toBeTruthy();
    expect(screen.getByLabelText(/Choose a password/)).toBeTruthy();
  });
});
