// Walk 2026-12-05: "Create" on a blank journey without a name answered "Give the journey a name"
// below the template gallery, out of sight, with the name field scrolled away. The dialog now says
// it at the name field, focuses the field and sends nothing.
import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { journeyRows } from "../test/fixtures.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";

afterEach(() => vi.restoreAllMocks());

describe("new journey without a name", () => {
  it("is refused at the name field, which gets the focus, and nothing is sent", async () => {
    renderApp({ me: marketer, journeys: journeyRows, templates: [] });
    const sent = vi.spyOn(globalThis, "fetch");
    fireEvent.click(await screen.findByRole("button", { name: "New journey" }));
    const dialog = screen.getByRole("dialog", { name: "New journey" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    const name = within(dialog).getByRole("textbox", { name: /Name/ });
    expect(name.getAttribute("aria-invalid")).toBe("true");
    const error = document.getElementById(name.getAttribute("aria-describedby") ?? "");
    expect(error?.textContent).toMatch(/Give the journey a name/);
    expect(document.activeElement).toBe(name);
    expect(sent.mock.calls.filter(([, init]) => init?.method === "POST")).toEqual([]);
    // Typing a name clears the message.
    fireEvent.change(name, { target: { value: "Autumn" } });
    expect(name.getAttribute("aria-invalid")).toBeNull();
  });

  it("lists the journeys in a box that scrolls sideways on a narrow screen", async () => {
    renderApp({ me: marketer, journeys: journeyRows });
    const table = await screen.findByRole("table");
    const box = table.parentElement;
    expect(box?.className).toBe("table-scroll");
    expect(box?.getAttribute("role")).toBe("region");
    expect(box?.tabIndex).toBe(0); // keyboard users can scroll it
  });
});
