import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Credentials } from "./SignInPage.tsx";
import { SignInForm } from "./SignInPage.tsx";

describe("SignInForm", () => {
  it("shows the server's message as an alert", () => {
    render(
      <SignInForm pending={false} error="Email or password is incorrect." onSubmit={() => {}} />,
    );
    expect(screen.getByRole("alert").textContent).toBe("Email or password is incorrect.");
  });

  it("hands over the typed credentials, the email trimmed", () => {
    let submitted: Credentials | undefined;
    render(<SignInForm pending={false} error={undefined} onSubmit={(c) => (submitted = c)} />);
    fireEvent.change(screen.getByLabelText("Email"), {
      target: { value: "  marketer@postpath.local " },
    });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "postpath-demo" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(submitted).toEqual({ email: "marketer@postpath.local", password: "postpath-demo" });
  });

  it("disables the button while signing in", () => {
    render(<SignInForm pending error={undefined} onSubmit={() => {}} />);
    expect(screen.getByRole("button", { name: "Signing in…" }).hasAttribute("disabled")).toBe(true);
  });
});
