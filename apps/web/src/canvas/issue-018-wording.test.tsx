// Issue 18: forms in a marketer's words (operators, error handling, entry rules, "QR code"),
// with the stored values unchanged.
import { JourneySettings, stepCatalog } from "@postpath/journey";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { JsonSchema } from "./SchemaForm.tsx";
import { SchemaForm } from "./SchemaForm.tsx";
import { stepJsonSchema } from "./panels/StepPanel.tsx";

function Harness(props: { schema: JsonSchema; initial: unknown; onValue: (v: unknown) => void }) {
  const [value, setValue] = useState(props.initial);
  return (
    <SchemaForm
      schema={props.schema}
      value={value}
      errors={{}}
      onChange={(v) => {
        setValue(v);
        props.onValue(v);
      }}
    />
  );
}

const optionTexts = (select: HTMLElement) =>
  within(select)
    .getAllByRole("option")
    .map((o) => o.textContent);

const CODES =
  /^(eq|neq|gt|gte|lt|lte|notContains|notIn|notExists|errorBranch|afterExit|afterCooldown|Qr|As)$/;

describe("issue 18: marketer wording in forms", () => {
  it("names a split's comparisons in words and stores the codes", () => {
    let last: unknown;
    render(
      <Harness
        schema={stepJsonSchema("split.condition")}
        initial={{ conditions: [{ property: "total", op: "eq", value: 100 }], match: "all" }}
        onValue={(v) => (last = v)}
      />,
    );
    const op = screen.getByRole("combobox", { name: "Comparison" });
    expect(optionTexts(op)).toEqual([
      "equals",
      "does not equal",
      "is greater than",
      "is at least",
      "is less than",
      "is at most",
      "contains",
      "does not contain",
      "starts with",
      "ends with",
      "is one of",
      "is not one of",
      "is set",
      "is not set",
    ]);
    fireEvent.change(op, { target: { value: "gte" } });
    expect(last).toMatchObject({ conditions: [{ op: "gte" }] });
    expect(optionTexts(screen.getByRole("combobox", { name: /Match/ }))).toEqual([
      "All of these",
      "Any of these",
    ]);
  });

  it("words error handling, the QR code and the output name of a personal URL step", () => {
    let last: unknown;
    render(
      <Harness
        schema={stepJsonSchema("action.purl")}
        initial={{ page: "spring", params: {}, qr: true }}
        onValue={(v) => (last = v)}
      />,
    );
    const onError = screen.getByRole("combobox", { name: /If it still fails/ });
    expect(optionTexts(onError)).toEqual([
      "Continue to the next step",
      "Take the 'failed' path",
      "End the journey for this customer",
    ]);
    fireEvent.change(onError, { target: { value: "errorBranch" } });
    expect(last).toMatchObject({ onError: "errorBranch" });
    expect(screen.getByRole("checkbox", { name: "QR code" })).toBeTruthy();
    expect(screen.getByRole("textbox", { name: /Name for later messages/ })).toBeTruthy();
    expect(screen.queryByText(/^Qr$|^As$/)).toBeNull();
  });

  it("words the entry rules", () => {
    let last: unknown;
    const schema = z.toJSONSchema(JourneySettings, {
      io: "input",
      unrepresentable: "any",
    }) as JsonSchema;
    render(<Harness schema={schema} initial={{}} onValue={(v) => (last = v)} />);
    const mode = screen.getByRole("combobox", { name: /A customer can enter/ });
    expect(optionTexts(mode)).toEqual([
      "Once ever",
      "Again after they leave",
      "Again after a cool-down",
    ]);
    fireEvent.change(mode, { target: { value: "afterExit" } });
    expect(last).toMatchObject({ entry: { mode: "afterExit" } });
  });

  it("shows no code as a label or option in any step's form", () => {
    for (const step of stepCatalog) {
      const { container, unmount } = render(
        <Harness schema={stepJsonSchema(step.type)} initial={step.defaults} onValue={() => {}} />,
      );
      const texts = [...container.querySelectorAll("label, legend, option")].map((el) =>
        (el.textContent ?? "").replace(/\(optional\)|\(comma-separated\)/g, "").trim(),
      );
      expect(
        texts.filter((t) => CODES.test(t)),
        step.type,
      ).toEqual([]);
      unmount();
    }
  });
});
