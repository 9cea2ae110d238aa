// issue 12: where an admin's password reset link lands (no session needed). Setting a new
// password ends every session of the account, then this browser is signed in.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { hrefs, navigate } from "../routing.ts";
import { errorMessage, useTRPC, useTRPCClient } from "../trpc.ts";
import { fieldMessage, NewPasswordField } from "./PasswordField.tsx";

/** Cache key of the reset-link lookup (a POST, like the invite lookup: no token in a URL). */
export const resetLookupKey = (token: string) => ["auth.resetInfo", token] as const;

export function ResetPage({ token }: { token: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const info = useQuery({
    queryKey: resetLookupKey(token),
    queryFn: () => client.auth.resetInfo.mutate({ token }),
    staleTime: Infinity,
  });
  const reset = useMutation(
    trpc.auth.resetPassword.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries();
        await queryClient.invalidateQueries(trpc.auth.me.queryFilter());
        navigate(hrefs.journeys());
      },
    }),
  );
  const [password, setPassword] = useState("");
  const passwordError = fieldMessage(reset.error, "password");
  return (
    <main className="sign-in">
      <form
        className="sign-in__card"
        aria-labelledby="reset-title"
        onSubmit={(e) => {
          e.preventDefault();
          reset.mutate({ token, password });
        }}
      >
        <h1 id="reset-title">Set a new password</h1>
        {info.isPending ? (
          <p role="status">Checking your link…</p>
        ) : info.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(info.error)}
          </p>
        ) : (
          <>
            <p>
              For <strong>{info.data.email}</strong>. You will be signed out everywhere else.
            </p>
            <NewPasswordField
              label="New password"
              value={password}
              onChange={setPassword}
              error={passwordError}
            />
            {reset.error && !passwordError ? (
              <p className="form-error" role="alert">
                {errorMessage(reset.error)}
              </p>
            ) : null}
            <button type="submit" disabled={reset.isPending}>
              {reset.isPending ? "Saving…" : "Set password"}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
