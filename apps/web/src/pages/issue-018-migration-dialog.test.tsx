// Issue 18: the publish dialog's choice for the customers already inside (keep or move), the
// deleted step's picker, the counts sent with the publish, the refusal when they changed, and the
// move's progress on the journey page.
import { JourneyDraft } from "@postpath/journey";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JourneyDetail } from "../api/contract.ts";
import { thankYouDraft } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { ApiError, stubTrpc } from "../test/trpcStub.ts";
import { marketer } from "../test/users.ts";

const draft = JourneyDraft.parse({
  ...thankYouDraft,
  nodes: thankYouDraft.nodes.map((n) =>
    n.id === "email" ? { ...n, data: { ...n.data, label: "SMS reminder" } } : n,
  ),
  edges: [...thankYouDraft.edges, { id: "e5", source: "email", target: "exit" }],
});

const journey: JourneyDetail = {
  id: "j18m",
  name: "Post-purchase",
  status: "LIVE",
  draft,
  draftRevision: 3,
  liveVersion: 2,
  updatedAt: "2025-11-20T10:15:00.000Z",
};

type Choices = {
  mode: "keep" | "move";
  deletedSteps: Record<string, string | null>;
  changedWaits: "keepDueTime" | "fromStart";
};

/** The server's preview for these choices: 412 at the deleted Reminder, 96 at a changed wait. */
function preview(choices: Choices, reminder = 412) {
  const move = choices.mode === "move";
  const mapped = choices.deletedSteps["reminder"];
  const target = mapped === null ? "leave the journey" : mapped === "email" ? "SMS reminder" : null;
  const base = { versionId: "v2", version: 2, active: 0 };
  return {
    lines: [
      {
        ...base,
        stepId: "reminder",
        label: "Reminder",
        customers: reminder,
        waiting: reminder,
        parked: 0,
        change: "deleted",
        to: { kind: move ? (target ? "step" : "unmapped") : "stay" },
        sentence: move
          ? `${reminder} waiting at Reminder (deleted) → ${target ?? "choose a step for them, or let them leave the journey"}`
          : `${reminder} waiting at Reminder stay on version 2`,
      },
      {
        ...base,
        stepId: "wait",
        label: "Wait",
        customers: 96,
        waiting: 96,
        parked: 0,
        change: "changed",
        to: { kind: move ? "same" : "stay" },
        sentence: move
          ? `96 waiting at Wait → same step, wait now 14 days (${choices.changedWaits === "fromStart" ? "counted from when each customer started waiting" : "each customer keeps the due time they had"})`
          : "96 waiting at Wait stay on version 2",
      },
    ],
    unmapped: move && mapped === undefined ? ["reminder"] : [],
    invalidTargets: [],
    customers: reminder + 96,
    moving: move ? reminder + 96 : 0,
    leaving: 0,
    newEntries: "New entries start version 3 at Event: purchase.",
    samples: [
      {
        versionId: "v2",
        stepId: "reminder",
        customers: [{ id: "c1", externalId: "ada", email: "ada@example.com" }],
      },
    ],
  };
}

const diff = () => ({
  ok: true,
  issues: [],
  liveVersion: 2,
  diff: {
    added: [],
    removed: [{ id: "reminder", type: "wait.duration" }],
    changed: [],
    rewired: [],
    settings: [],
    same: false,
  },
  sameTrigger: [],
});

async function openDialog() {
  renderApp({ me: marketer, journey });
  await screen.findByText("Event: purchase");
  const button = screen.getByRole<HTMLButtonElement>("button", { name: "Publish…" });
  await waitFor(() => expect(button.disabled).toBe(false));
  fireEvent.click(button);
  const dialog = await screen.findByRole("dialog", { name: "Publish journey" });
  await within(dialog).findByText(/508 customers are in progress/);
  return dialog;
}

describe("issue 18: the publish dialog's migration choice", () => {
  beforeEach(() => {
    window.location.hash = "#/journeys/j18m";
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("moves customers: the deleted step needs a choice, the publish carries the counts shown", async () => {
    let reminder = 412;
    const calls = stubTrpc({
      "auth.me": () => marketer,
      "journeys.get": () => journey,
      "journeys.diff": diff,
      "migration.preview": (input) => preview((input as { choices: Choices }).choices, reminder),
      "migration.progress": () => null,
      "migration.publish": (input) => {
        const seen = (input as { seen: { customers: number }[] }).seen;
        if (seen[0]?.customers !== reminder)
          throw new ApiError(
            "CONFLICT",
            `The numbers changed: ${reminder} now at Reminder, not ${seen[0]?.customers} — review the preview again.`,
          );
        return { versionId: "v3", version: 3, migrationId: "m1" };
      },
    });
    const dialog = await openDialog();
    // Keep is today's behaviour and the default.
    expect(within(dialog).getByText("412 waiting at Reminder stay on version 2")).toBeTruthy();
    expect(within(dialog).getByText(/e\.g\. ada@example\.com and 411 more/)).toBeTruthy();

    fireEvent.click(within(dialog).getByLabelText("Move them to the new version"));
    const picker = await within(dialog).findByRole<HTMLSelectElement>("combobox", {
      name: "Where the customers at Reminder go",
    });
    const publishNow = within(dialog).getByRole<HTMLButtonElement>("button", {
      name: "Publish now",
    });
    await within(dialog).findByText(/Choose where the customers at Reminder go/);
    expect(publishNow.disabled).toBe(true);
    // The picker offers the new version's steps by their names, and leaving.
    const options = within(picker)
      .getAllByRole("option")
      .map((o) => o.textContent);
    expect(options).toContain("SMS reminder");
    expect(options).toContain("Exit them (they leave the journey)");
    expect(options).not.toContain("Event: purchase");
    expect(
      within(dialog).getByText(/96 waiting at Wait → same step, wait now 14 days/),
    ).toBeTruthy();

    fireEvent.change(picker, { target: { value: "email" } });
    fireEvent.click(within(dialog).getByLabelText(/Count the new wait from when each customer/));
    await waitFor(() => expect(publishNow.disabled).toBe(false));
    expect(
      within(dialog).getByText(/counted from when each customer started waiting/),
    ).toBeTruthy();

    // Someone arrived at Reminder since: the server refuses with the new numbers, shown again.
    reminder = 415;
    fireEvent.click(publishNow);
    expect((await within(dialog).findByRole("alert")).textContent).toBe(
      "The numbers changed: 415 now at Reminder, not 412 — review the preview again.",
    );
    await waitFor(() =>
      expect(dialog.textContent).toContain("415 waiting at Reminder (deleted) →"),
    );
    fireEvent.click(publishNow);
    await within(dialog).findByText(/Published version 3/);
    expect(within(dialog).getByText(/the customers inside are being moved/)).toBeTruthy();
    const published = calls.filter((c) => c.path === "migration.publish").at(-1)!.input;
    expect(published).toEqual({
      journeyId: "j18m",
      choices: { mode: "move", deletedSteps: { reminder: "email" }, changedWaits: "fromStart" },
      seen: [
        { versionId: "v2", stepId: "reminder", customers: 415 },
        { versionId: "v2", stepId: "wait", customers: 96 },
      ],
    });
    expect(calls.some((c) => c.path === "journeys.publish")).toBe(false);
  });

  it("keeping them publishes as before", async () => {
    const calls = stubTrpc({
      "auth.me": () => marketer,
      "journeys.get": () => journey,
      "journeys.diff": diff,
      "migration.preview": (input) => preview((input as { choices: Choices }).choices),
      "migration.progress": () => null,
      "journeys.publish": () => ({ versionId: "v3", version: 3 }),
    });
    const dialog = await openDialog();
    fireEvent.click(within(dialog).getByRole("button", { name: "Publish now" }));
    await within(dialog).findByText(/runs in progress keep theirs/);
    expect(calls.some((c) => c.path === "migration.publish")).toBe(false);
  });

  it("shows the move's progress on the journey page", async () => {
    stubTrpc({
      "auth.me": () => marketer,
      "journeys.get": () => journey,
      "journeys.diff": diff,
      "migration.progress": () => ({
        id: "m1",
        status: "RUNNING",
        total: 508,
        moved: 200,
        exited: 12,
        kept: 0,
        pass: 0,
        error: null,
        fromVersions: [2],
        toVersion: 3,
        startedAt: new Date().toISOString(),
        finishedAt: null,
      }),
    });
    renderApp({ me: marketer, journey });
    const status = await screen.findByText(/Moving customers from version 2 to version 3/);
    expect(status.textContent).toContain("212 of 508 done (200 moved, 12 left the journey)");
  });
});
