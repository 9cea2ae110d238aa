import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { hrefs, navigate } from "../routing.ts";
import { errorMessage, useTRPC } from "../trpc.ts";

/** Where an invite link lands: set a name and password, then you are signed in. No session needed. */
export function InvitePage({ token }: { token: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const invite = useQuery(trpc.auth.invite.queryOptions({ token }));
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
            <label htmlFor="invite-password">Choose a password (at least 10 characters)</label>
            <input
              id="invite-password"
              type="password"
              required
              minLength={10}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
            />
            {accept.error ? (
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
