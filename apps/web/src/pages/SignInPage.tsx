import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent, ReactNode } from "react";
import { useId } from "react";
import { adminHrefs } from "../admin/routes.ts";
import { errorMessage, useTRPC } from "../trpc.ts";

export interface Credentials {
  email: string;
  password: string;
}

export function SignInPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      // Keep the button busy until `auth.me` has the new session, then the shell swaps pages.
      onSuccess: () => queryClient.invalidateQueries(trpc.auth.me.queryFilter()),
    }),
  );
  // issue 12: with ALLOW_SIGNUP on the server, a new team can create its own workspace.
  const settings = useQuery(trpc.auth.settings.queryOptions());
  return (
    <SignInForm
      pending={signIn.isPending}
      error={signIn.error ? errorMessage(signIn.error) : undefined}
      onSubmit={(credentials) => signIn.mutate(credentials)}
      footer={
        settings.data?.signUp ? (
          <a href={adminHrefs.signup()}>New here? Create a workspace</a>
        ) : null
      }
    />
  );
}

export function SignInForm({
  onSubmit,
  pending,
  error,
  footer,
}: {
  onSubmit: (credentials: Credentials) => void;
  pending: boolean;
  error: string | undefined;
  footer?: ReactNode;
}) {
  const id = useId();
  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const field = (name: string) => {
      const value = form.get(name);
      return typeof value === "string" ? value : "";
    };
    onSubmit({ email: field("email").trim(), password: field("password") });
  };
  return (
    <main className="sign-in">
      <form className="sign-in__card" onSubmit={handleSubmit} aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>Sign in to Postpath</h1>
        <label htmlFor={`${id}-email`}>Email</label>
        <input
          id={`${id}-email`}
          name="email"
          type="email"
          autoComplete="username"
          required
          autoFocus
        />
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
        {footer}
      </form>
    </main>
  );
}
