import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { FieldErrors, JsonSchema } from "./SchemaForm.tsx";
import { SchemaForm, humanize } from "./SchemaForm.tsx";
import { stepJsonSchema } from "./panels/StepPanel.tsx";

function Harness({
  schema,
  initial,
  errors = {},
  onValue,
}: {
  schema: JsonSchema;
  initial: unknown;
  errors?: FieldErrors;
  onValue: (v: unknown) => void;
}) {
  const [value, setValue] = useState(initial);
  return (
    <SchemaForm
      schema={schema}
      value={value}
      errors={errors}
      multiline={new Set(["body"])}
      onChange={(v) => {
        setValue(v);
        onValue(v);
      }}
    />
  );
}

describe("SchemaForm (generated from a step's zod schema)", () => {
  it("draws one labelled control per field of the email step, typed by the schema", () => {
    let last: unknown;
    render(
      <Harness
        schema={stepJsonSchema("action.email")}
        initial={{ subject: "", body: "", format: "html" }}
        onValue={(v) => (last = v)}
      />,
    );
    fireEvent.change(screen.getByLabelText("Subject"), {
      target: { value: "Hello {{ first_name }}" },
    });
    fireEvent.change(screen.getByLabelText("Body"), { target: { value: "Line 1" } });
    expect(screen.getByLabelText("Body").tagName).toBe("TEXTAREA");
    fireEvent.change(screen.getByLabelText(/^Format/), { target: { value: "text" } });
    fireEvent.click(screen.getByLabelText("Respect quiet hours"));
    expect(last).toEqual({
      subject: "Hello {{ first_name }}",
      body: "Line 1",
      format: "text",
      respectQuietHours: false,
    });
  });

  it("shows a field's error under it and marks the control invalid", () => {
    render(
      <Harness
        schema={stepJsonSchema("action.email")}
        initial={{ subject: "", body: "x" }}
        errors={{ subject: ["Write a subject line."] }}
        onValue={() => undefined}
      />,
    );
    const subject = screen.getByLabelText("Subject");
    expect(subject.getAttribute("aria-invalid")).toBe("true");
    const describedBy = subject.getAttribute("aria-describedby");
    expect(describedBy && document.getElementById(describedBy)?.textContent).toBe(
      "Write a subject line.",
    );
  });

  it("edits nested objects and numbers (a wait's timeout)", () => {
    let last: unknown;
    const { container } = render(
      <Harness
        schema={stepJsonSchema("wait.event")}
        initial={{ event: "", timeout: { amount: 7, unit: "days" } }}
        onValue={(v) => (last = v)}
      />,
    );
    const amount = container.querySelector<HTMLInputElement>('[data-field="timeout.amount"] input');
    if (!amount) throw new Error("no timeout.amount field");
    fireEvent.change(amount, { target: { value: "3" } });
    expect(last).toMatchObject({ timeout: { amount: 3, unit: "days" } });
  });

  it("adds and removes list items (a split's conditions), keeping typed values", () => {
    let last: unknown;
    const { container } = render(
      <Harness
        schema={stepJsonSchema("split.condition")}
        initial={{ conditions: [], match: "all" }}
        onValue={(v) => (last = v)}
      />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Add condition" }));
    const property = container.querySelector<HTMLInputElement>(
      '[data-field="conditions.0.property"] input',
    );
    const value = container.querySelector<HTMLInputElement>(
      '[data-field="conditions.0.value"] input',
    );
    if (!property || !value) throw new Error("condition fields missing");
    fireEvent.change(property, { target: { value: "event.total" } });
    fireEvent.change(value, { target: { value: "100" } });
    expect(last).toEqual({
      conditions: [{ property: "event.total", op: "eq", value: 100 }],
      match: "all",
    });
    fireEvent.click(screen.getByRole("button", { name: "Remove condition 1" }));
    expect(last).toEqual({ conditions: [], match: "all" });
  });

  it("switches a discriminated union's kind (a coupon's source)", () => {
    let last: unknown;
    const { container } = render(
      <Harness
        schema={stepJsonSchema("action.coupon")}
        initial={{
          source: { kind: "pattern", pattern: "SAVE-######" },
          value: { kind: "percent", amount: 10 },
        }}
        onValue={(v) => (last = v)}
      />,
    );
    const kind = container.querySelector<HTMLSelectElement>('[data-field="source"] select');
    if (!kind) throw new Error("no kind select");
    fireEvent.change(kind, { target: { value: "pool" } });
    expect(last).toMatchObject({ source: { kind: "pool", pool: "" } });
  });

  it("turns optional settings on and off (quiet hours)", () => {
    let last: unknown;
    const { container } = render(
      <Harness
        schema={{
          type: "object",
          properties: {
            quietHours: {
              anyOf: [
                { type: "object", properties: { start: { type: "string" } }, required: ["start"] },
                { type: "null" },
              ],
            },
          },
        }}
        initial={{}}
        onValue={(v) => (last = v)}
      />,
    );
    const toggle = container.querySelector<HTMLInputElement>(
      '[data-field="quietHours"] legend input',
    );
    if (!toggle) throw new Error("no toggle");
    fireEvent.click(toggle);
    expect(last).toEqual({ quietHours: { start: "" } });
    fireEvent.click(toggle);
    expect(last).toEqual({ quietHours: null });
  });

  it("gives number fields the schema's bounds (a step's retries: 0 to 10)", () => {
    render(
      <Harness
        schema={stepJsonSchema("action.sms")}
        initial={{ body: "Hi", retries: 2 }}
        onValue={() => {}}
      />,
    );
    const retries = screen.getByLabelText(/^Retries/);
    expect([retries.getAttribute("min"), retries.getAttribute("max")]).toEqual(["0", "10"]);
  });

  it("humanizes field names", () => {
    expect(humanize("respectQuietHours")).toBe("Respect quiet hours");
    expect(humanize("first_name")).toBe("First name");
  });
});
