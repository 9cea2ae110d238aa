// issue 12: the signed-in person's account: change the password (the current one is asked for;
// every other session ends), and for an instance owner, create a workspace.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { Me } from "../api/contract.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import { MutationError } from "./common.tsx";
import { fieldMessage, NewPasswordField } from "./PasswordField.tsx";
import { adminHrefs } from "./routes.ts";
import "./admin.css";

export function AccountPage({ me }: { me: Me }) {
  return (
    <section className="page admin" aria-labelledby="account-title">
      <div className="page__title">
        <h1 id="account-title">Your account</h1>
      </div>
      <p>
        {me.name} <span className="muted">({me.email})</span>, {me.role.toLowerCase()} in{" "}
        {me.workspace.name}
      </p>
      <ChangePassword />
      <CreateWorkspace />
    </section>
  );
}

function ChangePassword() {
  const trpc = useTRPC();
  const id = useId();
  const change = useMutation(trpc.auth.changePassword.mutationOptions());
  const [currentPassword, setCurrent] = useState("");
  const [newPassword, setNew] = useState("");
  const currentError = fieldMessage(change.error, "currentPassword");
  const newError = fieldMessage(change.error, "newPassword");
  return (
    <form
      className="account__form"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate(
          { currentPassword, newPassword },
          {
            onSuccess: () => {
              setCurrent("");
              setNew("");
            },
          },
        );
      }}
    >
      <h2 id={`${id}-title`}>Change your password</h2>
      <label htmlFor={`${id}-current`}>Current password</label>
      <input
        id={`${id}-current`}
        type="password"
        required
        value={currentPassword}
        onChange={(e) => setCurrent(e.target.value)}
        autoComplete="current-password"
        aria-invalid={currentError ? true : undefined}
      />
      {currentError ? (
        <p className="form-error" role="alert">
          {currentError}
        </p>
      ) : null}
      <NewPasswordField
        label="New password"
        value={newPassword}
        onChange={setNew}
        error={newError}
      />
      {change.error && !currentError && !newError ? (
        <p className="form-error" role="alert">
          {errorMessage(change.error)}
        </p>
      ) : null}
      {change.isSuccess ? (
        <p role="status">
          Password changed.{" "}
          {change.data.otherSessionsEnded > 0
            ? `Signed out on ${change.data.otherSessionsEnded} other ${change.data.otherSessionsEnded === 1 ? "device" : "devices"}.`
            : "You were not signed in anywhere else."}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={change.isPending}>
        {change.isPending ? "Changing…" : "Change password"}
      </button>
    </form>
  );
}

/** Only for an instance owner (`workspaces.canCreate`); nothing for everyone else. */
function CreateWorkspace() {
  const trpc = useTRPC();
  const id = useId();
  const allowed = useQuery(trpc.workspaces.canCreate.queryOptions());
  const create = useMutation(trpc.workspaces.create.mutationOptions());
  const [name, setName] = useState("");
  const [adminEmail, setAdminEmail] = useState("");
  const link = create.data
    ? `${window.location.origin}${window.location.pathname}${adminHrefs.invite(create.data.token)}`
    : null;
  if (!allowed.data) return null;
  return (
    <>
      <h2 id={`${id}-title`}>Create a workspace</h2>
      <p className="muted">
        As the owner of this Postpath, you can start a workspace for another team. Its first admin
        joins with the link shown once below.
      </p>
      <form
        className="inline-form"
        aria-labelledby={`${id}-title`}
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { name, adminEmail },
            {
              onSuccess: () => {
                setName("");
                setAdminEmail("");
              },
            },
          );
        }}
      >
        <label htmlFor={`${id}-name`}>Workspace name</label>
        <input id={`${id}-name`} required value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor={`${id}-email`}>Its admin's email</label>
        <input
          id={`${id}-email`}
          type="email"
          required
          value={adminEmail}
          onChange={(e) => setAdminEmail(e.target.value)}
        />
        <button type="submit" className="primary" disabled={create.isPending}>
          Create workspace
        </button>
      </form>
      <MutationError error={create.error} />
      {link && create.data ? (
        <p className="admin__secret" role="status">
          {create.data.workspace.name} is ready. Send this link to its admin (shown once, valid 7
          days): <code data-testid="workspace-invite-link">{link}</code>
        </p>
      ) : null}
    </>
  );
}
