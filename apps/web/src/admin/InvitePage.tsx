import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { hrefs, navigate } from "../routing.ts";
import { errorMessage, useTRPC, useTRPCClient } from "../trpc.ts";
import { fieldMessage, NewPasswordField } from "./PasswordField.tsx";

/**
 * The cache key of an invite lookup. The lookup is a POST (`auth.invite` is a mutation, so the
 * token never sits in a request URL or a server log — issue 12), cached like a query.
 */
export const inviteLookupKey = (token: string) => ["auth.invite", token] as const;

/** Where an invite link lands: set a name and password, then you are signed in. No session needed. */
export function InvitePage({ token }: { token: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const invite = useQuery({
    queryKey: inviteLookupKey(token),
    queryFn: () => client.auth.invite.mutate({ token }),
    staleTime: Infinity,
  });
  const accept = useMutation(
    trpc.auth.acceptInvite.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries();
        await queryClient.invalidateQueries(trpc.auth.me.queryFilter());
        navigate(hrefs.journeys());
      },
    }),
  );
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const passwordError = fieldMessage(accept.error, "password");
  return (
    <main className="sign-in">
      <form
        className="sign-in__card"
        aria-labelledby="invite-title"
        onSubmit={(e) => {
          e.preventDefault();
          accept.mutate({ token, name, password });
        }}
      >
        <h1 id="invite-title">Join Postpath</h1>
        {invite.isPending ? (
          <p role="status">Checking your invite…</p>
        ) : invite.isError ? (
          <p className="form-error" role="alert">
            {errorMessage(invite.error)}
          </p>
        ) : (
          <>
            <p>
              You are invited to <strong>{invite.data.workspace}</strong> as{" "}
              {invite.data.role.toLowerCase()} ({invite.data.email}).
            </p>
            <label htmlFor="invite-name">Your name</label>
            <input
              id="invite-name"
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoComplete="name"
            />
            <NewPasswordField value={password} onChange={setPassword} error={passwordError} />
            {accept.error && !passwordError ? (
              <p className="form-error" role="alert">
                {errorMessage(accept.error)}
              </p>
            ) : null}
            <button type="submit" disabled={accept.isPending}>
              {accept.isPending ? "Joining…" : "Join workspace"}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
