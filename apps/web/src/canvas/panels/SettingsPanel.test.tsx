// Issue 14: the entry rule "once per value of a trigger property" in the journey settings form.
import { JourneySettings } from "@postpath/journey";
import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { SchemaForm } from "../SchemaForm.tsx";
import { schema } from "./SettingsPanel.tsx";

function Harness({ onValue }: { onValue: (v: unknown) => void }) {
  const [value, setValue] = useState<unknown>(JourneySettings.parse({}));
  return (
    <SchemaForm
      schema={schema()}
      value={value}
      errors={{}}
      onChange={(v) => {
        setValue(v);
        onValue(v);
      }}
    />
  );
}

describe("journey settings: entries per value of a trigger property", () => {
  it("is off by default; ticked, it asks for the property, and the value parses", () => {
    let last: unknown;
    render(<Harness onValue={(v) => (last = v)} />);
    const toggle = screen.getByRole("checkbox", {
      name: /Count entries separately for each value of/,
    });
    expect((toggle as HTMLInputElement).checked).toBe(false);
    fireEvent.click(toggle);
    expect(last).toMatchObject({ entry: { perValueOf: "" } });
    // An empty name is refused in words (the panel shows validate()'s message under the field).
    expect(JourneySettings.safeParse(last).error?.issues[0]?.message).toBe(
      "Name the trigger event's property to count entries by, e.g. serial or product.serial.",
    );
    const input = screen.getByRole("textbox", {
      name: /Count entries separately for each value of/,
    });
    fireEvent.change(input, { target: { value: "serial" } });
    expect(JourneySettings.parse(last).entry).toMatchObject({ mode: "once", perValueOf: "serial" });
    fireEvent.click(toggle);
    expect(JourneySettings.parse(last).entry.perValueOf).toBe(null);
  });
});
