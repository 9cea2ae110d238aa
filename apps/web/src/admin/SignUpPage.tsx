// issue 12: with ALLOW_SIGNUP on the server, anyone may create a workspace and become its admin.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { hrefs, navigate } from "../routing.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import { fieldMessage, NewPasswordField } from "./PasswordField.tsx";

export function SignUpPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.auth.settings.queryOptions());
  const signUp = useMutation(
    trpc.auth.signUp.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries();
        await queryClient.invalidateQueries(trpc.auth.me.queryFilter());
        navigate(hrefs.journeys());
      },
    }),
  );
  const [form, setForm] = useState({ workspace: "", name: "", email: "", password: "" });
  const set = (key: keyof typeof form) => (value: string) =>
    setForm((f) => ({ ...f, [key]: value }));
  const passwordError = fieldMessage(signUp.error, "password");
  return (
    <main className="sign-in">
      <form
        className="sign-in__card"
        aria-labelledby="signup-title"
        onSubmit={(e) => {
          e.preventDefault();
          signUp.mutate(form);
        }}
      >
        <h1 id="signup-title">Create a workspace</h1>
        {settings.isPending ? (
          <p role="status">Loading…</p>
        ) : !settings.data?.signUp ? (
          <p className="form-error" role="alert">
            Sign-up is turned off here. Ask an admin of your workspace for an invite.
          </p>
        ) : (
          <>
            <label htmlFor="signup-workspace">Workspace name</label>
            <input
              id="signup-workspace"
              required
              value={form.workspace}
              onChange={(e) => set("workspace")(e.target.value)}
              autoComplete="organization"
            />
            <label htmlFor="signup-name">Your name</label>
            <input
              id="signup-name"
              required
              value={form.name}
              onChange={(e) => set("name")(e.target.value)}
              autoComplete="name"
            />
            <label htmlFor="signup-email">Email</label>
            <input
              id="signup-email"
              type="email"
              required
              value={form.email}
              onChange={(e) => set("email")(e.target.value)}
              autoComplete="username"
            />
            <NewPasswordField
              value={form.password}
              onChange={set("password")}
              error={passwordError}
            />
            {signUp.error && !passwordError ? (
              <p className="form-error" role="alert">
                {errorMessage(signUp.error)}
              </p>
            ) : null}
            <button type="submit" disabled={signUp.isPending}>
              {signUp.isPending ? "Creating…" : "Create workspace"}
            </button>
          </>
        )}
        <a href={hrefs.journeys()}>I have an account: sign in</a>
      </form>
    </main>
  );
}
