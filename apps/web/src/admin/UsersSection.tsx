import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Role } from "../api/contract.ts";
import { ConfirmDialog } from "../components/Dialog.tsx";
import { errorMessage, useTRPC } from "../trpc.ts";
import { Loading, MutationError, When } from "./common.tsx";
import { adminHrefs } from "./routes.ts";

const ROLES: Role[] = ["ADMIN", "MARKETER", "VIEWER"];

/** Roles in words (the lists showed the stored values, "admin", "marketer", "viewer"). */
const ROLE_WORDS: Record<Role, string> = {
  ADMIN: "Admin",
  MARKETER: "Marketer",
  VIEWER: "Viewer (read only)",
};

export function UsersSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const me = useQuery(trpc.auth.me.queryOptions());
  const refresh = () => queryClient.invalidateQueries(trpc.users.pathFilter());
  const setRole = useMutation(trpc.users.setRole.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.users.remove.mutationOptions({ onSuccess: refresh }));
  const [removing, setRemoving] = useState<{ id: string; email: string } | null>(null);
  // issue 12: a one-time reset link (shown once, valid 24 h); using it signs the user out everywhere.
  const resetLink = useMutation(trpc.users.resetLink.mutationOptions());
  const reset = resetLink.data
    ? `${window.location.origin}${window.location.pathname}${adminHrefs.reset(resetLink.data.token)}`
    : null;
  return (
    <>
      <h2>Users and roles</h2>
      <MutationError error={setRole.error} />
      <MutationError error={resetLink.error} />
      {reset && resetLink.data ? (
        <p className="admin__secret" role="status">
          Send this password reset link to {resetLink.data.email} (shown once, works once, valid 24
          hours; it signs them out everywhere): <code data-testid="reset-link">{reset}</code>
        </p>
      ) : null}
      <Loading query={users} what="users">
        {(list) => (
          <table className="admin__table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Joined</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((u) => (
                <tr key={u.id}>
                  <td>{u.name}</td>
                  <td>{u.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      disabled={setRole.isPending}
                      onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {ROLE_WORDS[r]}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <When at={u.createdAt} />
                  </td>
                  <td>
                    {u.id !== me.data?.id ? (
                      <span className="row-actions">
                        <button
                          type="button"
                          disabled={resetLink.isPending}
                          onClick={() => resetLink.mutate({ id: u.id })}
                        >
                          Reset password
                        </button>
                        <button
                          type="button"
                          onClick={() => setRemoving({ id: u.id, email: u.email })}
                        >
                          Remove
                        </button>
                      </span>
                    ) : (
                      <a className="muted" href={adminHrefs.account()}>
                        you
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
      {removing ? (
        <ConfirmDialog
          title="Remove user"
          message={`${removing.email} loses access to this workspace and is signed out everywhere.`}
          confirmLabel="Remove"
          busy={remove.isPending}
          error={remove.error ? errorMessage(remove.error) : null}
          onConfirm={() =>
            remove.mutate({ id: removing.id }, { onSuccess: () => setRemoving(null) })
          }
          onCancel={() => setRemoving(null)}
        />
      ) : null}
      <Invites />
    </>
  );
}

function Invites() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const invites = useQuery(trpc.invites.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries(trpc.invites.pathFilter());
  const create = useMutation(trpc.invites.create.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.invites.revoke.mutationOptions({ onSuccess: refresh }));
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("MARKETER");
  const link = create.data
    ? `${window.location.origin}${window.location.pathname}${adminHrefs.invite(create.data.token)}`
    : null;
  return (
    <>
      <h2>Invite someone</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ email, role }, { onSuccess: () => setEmail("") });
        }}
      >
        <label htmlFor="invite-email">Email</label>
        <input
          id="invite-email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="invite-role">Role</label>
        <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_WORDS[r]}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create invite link
        </button>
      </form>
      <MutationError error={create.error} />
      {link ? (
        <p className="admin__secret" role="status">
          Send this link to {create.data?.invite.email} (shown once, valid 7 days):{" "}
          <code data-testid="invite-link">{link}</code>
        </p>
      ) : null}
      <Loading query={invites} what="invites">
        {(list) =>
          list.length === 0 ? null : (
            <table className="admin__table">
              <thead>
                <tr>
                  <th>Email</th>
                  <th>Role</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((i) => {
                  const open =
                    !i.acceptedAt && !i.revokedAt && new Date(i.expiresAt).getTime() > Date.now();
                  return (
                    <tr key={i.id}>
                      <td>{i.email}</td>
                      <td>{ROLE_WORDS[i.role]}</td>
                      <td>
                        {i.acceptedAt
                          ? "accepted"
                          : i.revokedAt
                            ? "revoked"
                            : open
                              ? "open"
                              : "expired"}
                      </td>
                      <td>
                        {open ? (
                          <button
                            type="button"
                            disabled={revoke.isPending}
                            onClick={() => revoke.mutate({ id: i.id })}
                          >
                            Revoke
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loading>
    </>
  );
}
