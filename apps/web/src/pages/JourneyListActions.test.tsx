import { fireEvent, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { journeyRows } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

const templates = [
  {
    id: "machine-registration",
    name: "Machine registration",
    description: "Register a machine.",
    steps: 8,
  },
  { id: "ab-test", name: "A/B test", description: "Two variants.", steps: 5 },
];

describe("journey list actions", () => {
  it("offers a blank journey or every gallery template when creating", async () => {
    renderApp({ me: marketer, journeys: journeyRows, templates });
    fireEvent.click(await screen.findByRole("button", { name: "New journey" }));
    const dialog = screen.getByRole("dialog", { name: "New journey" });
    const choices = within(dialog).getAllByRole("radio");
    expect(choices.map((c) => c.getAttribute("value"))).toEqual([
      "",
      "machine-registration",
      "ab-test",
    ]);
    expect(
      within(dialog).getByRole<HTMLInputElement>("radio", { name: /Blank journey/ }).checked,
    ).toBe(true);
    fireEvent.click(within(dialog).getByRole("radio", { name: /Machine registration/ }));
    // With a template the name is optional (the template's name is used).
    expect(within(dialog).getByText("(optional)")).toBeTruthy();
    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("lets a marketer duplicate any journey and archive one that is not running, after confirming", async () => {
    renderApp({ me: marketer, journeys: journeyRows });
    expect(
      (
        await screen.findByRole<HTMLButtonElement>("button", {
          name: "Archive Thank-you after purchase",
        })
      ).disabled,
    ).toBe(true);
    expect(
      screen.getByRole<HTMLButtonElement>("button", { name: "Duplicate Thank-you after purchase" })
        .disabled,
    ).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Archive Win-back after 90 days" }));
    const confirm = screen.getByRole("dialog", { name: "Archive “Win-back after 90 days”?" });
    expect(confirm.textContent).toContain("versions and history are kept");
    fireEvent.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    // Clicking in the actions cell does not open the journey.
    expect(window.location.hash).toBe("");
  });

  it("shows viewers no create, duplicate or archive controls", async () => {
    renderApp({ me: { ...marketer, role: "VIEWER" }, journeys: journeyRows });
    expect(await screen.findByRole("table")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "New journey" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Duplicate/ })).toBeNull();
  });
});
