// Issue 16: the name picker — a labelled combobox the keyboard drives (↓ opens and moves, Enter
// chooses, Escape closes and gives focus back), listing what the workspace has seen with kinds and
// examples, and still accepting a new name, which is then flagged "never seen yet".
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { NamePicker, type NameOption } from "./NamePicker.tsx";

const OPTIONS: NameOption[] = [
  { name: "plan", type: "text", examples: ["pro", "free", "team"] },
  { name: "total_spent", type: "number", examples: ["149", "20"] },
  { name: "renewal_date", type: "date" },
];

function Harness(props: {
  initial?: string;
  observed?: boolean;
  seen: string[];
  labelOf?: (name: string) => string | undefined;
}) {
  const [value, setValue] = useState(props.initial ?? "");
  return (
    <>
      <label htmlFor="attr">Attribute</label>
      <NamePicker
        id="attr"
        value={value}
        onChange={(v) => {
          props.seen.push(v);
          setValue(v);
        }}
        options={OPTIONS}
        noun="attribute"
        {...(props.observed === undefined ? {} : { observed: props.observed })}
        {...(props.labelOf ? { labelOf: props.labelOf } : {})}
      />
    </>
  );
}

const selected = () =>
  screen.getAllByRole("option").find((o) => o.getAttribute("aria-selected") === "true");

describe("issue 16: NamePicker", () => {
  it("opens with ↓, moves with ↓ and chooses with Enter; shows kinds and examples", async () => {
    const seen: string[] = [];
    render(<Harness seen={seen} />);
    const field = screen.getByRole("combobox", { name: "Attribute" });
    expect(field.textContent).toBe("Choose an attribute…");
    expect(field.getAttribute("aria-expanded")).toBe("false");
    field.focus();
    fireEvent.keyDown(field, { key: "ArrowDown" });

    const input = await screen.findByRole("combobox", { name: "Choose an attribute" });
    await waitFor(() => expect(document.activeElement).toBe(input));
    // The popup is a named dialog holding the search and the list.
    expect(screen.getByRole("dialog", { name: "Choose an attribute" }).contains(input)).toBe(true);
    expect(field.getAttribute("aria-expanded")).toBe("true");
    const list = screen.getByRole("listbox");
    // The field controls the popup holding the list (Radix links them).
    expect(document.getElementById(field.getAttribute("aria-controls") ?? "")?.contains(list)).toBe(
      true,
    );
    const options = within(list).getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual([
      "plantexte.g. pro, free, team",
      "total_spentnumbere.g. 149, 20",
      "renewal_datedate",
    ]);
    expect(selected()?.textContent).toContain("plan");
    fireEvent.keyDown(input, { key: "ArrowDown" });
    expect(selected()?.textContent).toContain("total_spent");
    // The input says which option is highlighted (aria-activedescendant).
    expect(input.getAttribute("aria-activedescendant")).toBe(selected()?.id);
    fireEvent.keyDown(input, { key: "Enter" });

    expect(seen).toEqual(["total_spent"]);
    await waitFor(() => expect(screen.queryByRole("listbox")).toBeNull());
    expect(field.textContent).toBe("total_spent");
    expect(field.getAttribute("aria-expanded")).toBe("false");
    // A known name: no warning.
    expect(screen.queryByText(/Never seen yet/)).toBeNull();
    expect(field.getAttribute("aria-describedby")).toBeNull();
  });

  it("filters as you type, and Escape closes without changing the value", async () => {
    const seen: string[] = [];
    render(<Harness seen={seen} initial="plan" />);
    const field = screen.getByRole("combobox", { name: "Attribute" });
    fireEvent.click(field);
    const input = await screen.findByRole("combobox", { name: "Choose an attribute" });
    fireEvent.change(input, { target: { value: "renew" } });
    await waitFor(() =>
      expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual([
        "renewal_datedate",
        "Use “renew” — never seen yet",
      ]),
    );
    fireEvent.keyDown(input, { key: "Escape" });
    await waitFor(() => expect(screen.queryByRole("listbox")).toBeNull());
    expect(seen).toEqual([]);
    expect(field.textContent).toBe("plan");
    await waitFor(() => expect(document.activeElement).toBe(field));
  });

  it("accepts a name nobody has sent yet, and flags it 'never seen yet'", async () => {
    const seen: string[] = [];
    render(<Harness seen={seen} />);
    const field = screen.getByRole("combobox", { name: "Attribute" });
    // Typing on the closed field opens it with that letter.
    fireEvent.keyDown(field, { key: "l" });
    const input = await screen.findByRole("combobox", { name: "Choose an attribute" });
    expect((input as HTMLInputElement).value).toBe("l");
    fireEvent.change(input, { target: { value: "loyalty_tier" } });
    await waitFor(() =>
      expect(selected()?.textContent).toBe("Use “loyalty_tier” — never seen yet"),
    );
    fireEvent.keyDown(input, { key: "Enter" });

    expect(seen).toEqual(["loyalty_tier"]);
    const warning = await screen.findByText(/Never seen yet: no attribute called “loyalty_tier”/);
    expect(field.getAttribute("aria-describedby")).toBe(warning.id);
    expect(field.textContent).toBe("loyalty_tier");
  });

  it("shows a chosen name nobody has sent yet in words when it has them (labelOf)", () => {
    const words = (name: string) => (name === "event.tier" ? "Tier (purchase event)" : undefined);
    render(<Harness seen={[]} initial="event.tier" labelOf={words} />);
    expect(screen.getByRole("combobox", { name: "Attribute" }).textContent).toBe(
      "Tier (purchase event)",
    );
    expect(screen.getByText(/Never seen yet/).textContent).toContain("“Tier (purchase event)”");
  });

  it("no warning while the workspace has observed nothing yet", () => {
    render(<Harness seen={[]} initial="anything" observed={false} />);
    expect(screen.getByRole("combobox", { name: "Attribute" }).textContent).toBe("anything");
    expect(screen.queryByText(/Never seen yet/)).toBeNull();
  });

  it("names with titles (pages): shown and searched by title, a known title is no new name, and 'Use' comes last", async () => {
    const seen: string[] = [];
    function Titled() {
      const [value, setValue] = useState("spring");
      return (
        <>
          <label htmlFor="page">Page</label>
          <NamePicker
            id="page"
            value={value}
            onChange={(v) => {
              seen.push(v);
              setValue(v);
            }}
            options={[
              { name: "spring", label: "Spring sale" },
              { name: "autumn", label: "Autumn preview", warning: "Not published yet." },
            ]}
            noun="page"
            unknownWarning={(slug) => `No page at “${slug}”.`}
            newNote="no page here yet"
          />
        </>
      );
    }
    render(<Titled />);
    const field = screen.getByRole("combobox", { name: "Page" });
    expect(field.textContent).toBe("Spring sale");
    fireEvent.click(field);
    const input = await screen.findByRole("combobox", { name: "Choose a page" });
    // A title typed as shown, in any case: that page, and no "Use" option.
    fireEvent.change(input, { target: { value: "autumn PREVIEW" } });
    await waitFor(() =>
      expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["Autumn preview"]),
    );
    // Part of a title: the page first (chosen by Enter), the new address last.
    fireEvent.change(input, { target: { value: "Autumn" } });
    await waitFor(() =>
      expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual([
        "Autumn preview",
        "Use “Autumn” — no page here yet",
      ]),
    );
    await waitFor(() => expect(selected()?.textContent).toBe("Autumn preview"));
    fireEvent.keyDown(input, { key: "Enter" });
    expect(seen).toEqual(["autumn"]);
    expect(field.textContent).toBe("Autumn preview");
    const warning = await screen.findByText("Not published yet.");
    expect(field.getAttribute("aria-describedby")).toBe(warning.id);

    // An address no page has: kept, with the caller's words.
    fireEvent.click(field);
    const again = await screen.findByRole("combobox", { name: "Choose a page" });
    fireEvent.change(again, { target: { value: "winter" } });
    await waitFor(() => expect(selected()?.textContent).toBe("Use “winter” — no page here yet"));
    fireEvent.keyDown(again, { key: "Enter" });
    expect(seen).toEqual(["autumn", "winter"]);
    expect(await screen.findByText("No page at “winter”.")).toBeTruthy();
  });
});
