// Issue 16: each message step says, in a marketer's words, whether it is marketing (respects
// unsubscribes) or transactional (always sent); marketing unless changed.
import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SchemaForm } from "./SchemaForm.tsx";
import { stepJsonSchema } from "./panels/StepPanel.tsx";

describe("message purpose in the step form", () => {
  for (const type of ["action.email", "action.sms", "action.push"] as const) {
    it(`${type}: marketing by default, transactional on request`, () => {
      let last: unknown;
      render(
        <SchemaForm
          schema={stepJsonSchema(type)}
          value={{}}
          errors={{}}
          onChange={(v) => (last = v)}
        />,
      );
      const select = screen.getByLabelText<HTMLSelectElement>(/^Kind of message/);
      const options = [...select.options].map((o) => o.text);
      expect(options).toEqual([
        "Marketing message — respects unsubscribes",
        "Transactional (receipt, password reset) — always sent",
      ]);
      expect(select.selectedOptions[0]?.text).toBe("Marketing message — respects unsubscribes");
      fireEvent.change(select, { target: { value: "transactional" } });
      expect(last).toMatchObject({ purpose: "transactional" });
    });
  }
});
