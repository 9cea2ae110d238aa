import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ConfirmDialog, Dialog } from "../components/Dialog.tsx";
import { errorMessage, useTRPC } from "../trpc.ts";
import { Loading, MutationError, When, type Outputs } from "./common.tsx";

type Kind = "SMTP" | "SMS" | "PUSH" | "WEBHOOK" | "SLACK";
type Credential = Outputs["credentials"]["list"][number];
type DeliveryReports = Outputs["credentials"]["deliveryReports"];

interface Field {
  name: string;
  label: string;
  type?: "password" | "number" | "checkbox" | "url";
  optional?: boolean;
  /** A line under the field. */
  hint?: string;
}

/** The form per kind; password fields are the secrets (never shown again, only their last 4). */
const FORMS: Record<Kind, { title: string; fields: Field[]; toLabel?: string }> = {
  SMTP: {
    title: "SMTP (email)",
    fields: [
      { name: "from", label: "Sender (e.g. Shop <hi@shop.example>)" },
      { name: "host", label: "Host" },
      { name: "port", label: "Port", type: "number" },
      { name: "secure", label: "Implicit TLS (port 465)", type: "checkbox", optional: true },
      { name: "user", label: "User name" },
      { name: "pass", label: "Password", type: "password" },
      {
        name: "eventWebhookPublicKey",
        label: "SendGrid verification key (for delivery reports)",
        optional: true,
        hint: "From SendGrid's Event Webhook settings, with Signed Event Webhook turned on. Leave empty if you don't use SendGrid.",
      },
    ],
    toLabel: "Send a test email to (empty: check the login only)",
  },
  SMS: {
    title: "SMS (Twilio-compatible)",
    fields: [
      { name: "accountSid", label: "Account SID" },
      { name: "authToken", label: "Auth token", type: "password" },
      { name: "from", label: "Sender number" },
      { name: "baseUrl", label: "API base URL", type: "url", optional: true },
      {
        name: "deliveryReports",
        label: "Ask Twilio to report deliveries, failures and STOP replies",
        type: "checkbox",
        optional: true,
      },
    ],
    toLabel: "Send a test SMS to (empty: check the account only)",
  },
  PUSH: {
    title: "Push",
    fields: [
      { name: "endpoint", label: "Endpoint URL", type: "url" },
      { name: "apiKey", label: "API key", type: "password" },
    ],
    toLabel: "Device token for a test push",
  },
  WEBHOOK: {
    title: "Webhook signing",
    fields: [
      { name: "url", label: "Default URL", type: "url", optional: true },
      { name: "secret", label: "Signing secret", type: "password" },
    ],
  },
  SLACK: {
    title: "Slack-compatible webhook",
    fields: [{ name: "url", label: "Incoming webhook URL", type: "password" }],
  },
};

function configFrom(
  kind: Kind,
  values: Record<string, string | boolean>,
  reports: DeliveryReports | undefined,
): Record<string, unknown> {
  const v = (k: string) => (typeof values[k] === "string" ? values[k].trim() : "");
  switch (kind) {
    case "SMTP":
      return {
        from: v("from"),
        host: v("host"),
        port: Number(v("port")),
        secure: values.secure === true,
        auth: { user: v("user"), pass: typeof values.pass === "string" ? values.pass : "" },
        ...(v("eventWebhookPublicKey")
          ? { eventWebhookPublicKey: v("eventWebhookPublicKey") }
          : {}),
      };
    case "SMS":
      return {
        accountSid: v("accountSid"),
        authToken: v("authToken"),
        from: v("from"),
        ...(v("baseUrl") ? { baseUrl: v("baseUrl") } : {}),
        ...(values.deliveryReports === true && reports
          ? { statusCallbackUrl: reports.sms.url }
          : {}),
      };
    case "PUSH":
      return { endpoint: v("endpoint"), apiKey: v("apiKey") };
    case "WEBHOOK":
      return { ...(v("url") ? { url: v("url") } : {}), secret: v("secret") };
    case "SLACK":
      return { url: v("url") };
  }
}

export function CredentialsSection() {
  const trpc = useTRPC();
  const credentials = useQuery(trpc.credentials.list.queryOptions());
  const [editing, setEditing] = useState<{ kind: Kind; rotate?: Credential } | null>(null);
  const [testing, setTesting] = useState<Credential | null>(null);
  const [deleting, setDeleting] = useState<Credential | null>(null);
  const [kind, setKind] = useState<Kind>("SMTP");
  return (
    <>
      <h2>Channel credentials</h2>
      <p className="muted">
        Secrets are encrypted and write-only: after saving, only the last 4 characters are shown.
        Rotate to replace one.
      </p>
      <div className="inline-form">
        <label htmlFor="credential-kind">Add</label>
        <select id="credential-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          {(Object.keys(FORMS) as Kind[]).map((k) => (
            <option key={k} value={k}>
              {FORMS[k].title}
            </option>
          ))}
        </select>
        <button type="button" className="primary" onClick={() => setEditing({ kind })}>
          Add credential
        </button>
      </div>
      <Loading query={credentials} what="credentials">
        {(list) =>
          list.length === 0 ? (
            <p className="muted">No credentials yet: messages use the server&apos;s defaults.</p>
          ) : (
            <table className="admin__table">
              <thead>
                <tr>
                  <th>Kind</th>
                  <th>Label</th>
                  <th>Secret</th>
                  <th>Last used</th>
                  <th>Last test</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.id}>
                    <td>{FORMS[c.kind].title}</td>
                    <td>{c.label}</td>
                    <td>
                      <code>{c.last4 ? `••••${c.last4}` : "••••"}</code>
                    </td>
                    <td>
                      <When at={c.lastUsedAt} />
                    </td>
                    <td>
                      {c.lastTestedAt ? (
                        <span title={c.lastTestDetail ?? ""}>
                          {c.lastTestOk ? "✓ works" : "✗ failed"}
                        </span>
                      ) : (
                        <span className="muted">not tested</span>
                      )}
                    </td>
                    <td className="row-actions">
                      <button type="button" onClick={() => setTesting(c)}>
                        Test
                      </button>
                      <button type="button" onClick={() => setEditing({ kind: c.kind, rotate: c })}>
                        Rotate
                      </button>
                      <button type="button" onClick={() => setDeleting(c)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loading>
      {editing ? (
        <CredentialDialog
          kind={editing.kind}
          rotate={editing.rotate}
          onClose={() => setEditing(null)}
        />
      ) : null}
      <DeliveryReportsPanel />
      {testing ? <TestDialog credential={testing} onClose={() => setTesting(null)} /> : null}
      {deleting ? <DeleteDialog credential={deleting} onClose={() => setDeleting(null)} /> : null}
    </>
  );
}

function CredentialDialog({
  kind,
  rotate,
  onClose,
}: {
  kind: Kind;
  rotate: Credential | undefined;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const done = {
    onSuccess: () =>
      void queryClient.invalidateQueries(trpc.credentials.pathFilter()).then(onClose),
  };
  const create = useMutation(trpc.credentials.create.mutationOptions(done));
  const rotateM = useMutation(trpc.credentials.rotate.mutationOptions(done));
  const reports = useQuery(trpc.credentials.deliveryReports.queryOptions());
  const [label, setLabel] = useState(rotate?.label ?? "");
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const form = FORMS[kind];
  return (
    <Dialog title={rotate ? `Rotate ${rotate.label}` : `Add ${form.title}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const config = configFrom(kind, values, reports.data);
          if (rotate) rotateM.mutate({ id: rotate.id, label, config });
          else create.mutate({ kind, label, config });
        }}
      >
        <div className="field">
          <label htmlFor="credential-label">Label</label>
          <input
            id="credential-label"
            required
            value={label}
            onChange={(e) => setLabel(e.target.value)}
          />
        </div>
        {form.fields.map((f) => (
          <div className={f.type === "checkbox" ? "field field--check" : "field"} key={f.name}>
            <label htmlFor={`credential-${f.name}`}>{f.label}</label>
            {f.type === "checkbox" ? (
              <input
                id={`credential-${f.name}`}
                type="checkbox"
                checked={values[f.name] === true}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.checked })}
              />
            ) : (
              <input
                id={`credential-${f.name}`}
                type={f.type === "password" ? "password" : f.type === "number" ? "number" : "text"}
                autoComplete={f.type === "password" ? "new-password" : "off"}
                required={!f.optional}
                value={typeof values[f.name] === "string" ? (values[f.name] as string) : ""}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              />
            )}
            {f.hint ? <p className="muted">{f.hint}</p> : null}
          </div>
        ))}
        <MutationError error={create.error ?? rotateM.error} />
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="primary"
            disabled={create.isPending || rotateM.isPending}
          >
            {rotate ? "Rotate secret" : "Save credential"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function TestDialog({ credential, onClose }: { credential: Credential; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const test = useMutation(
    trpc.credentials.test.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.credentials.pathFilter()),
    }),
  );
  const [to, setTo] = useState("");
  const toLabel = FORMS[credential.kind].toLabel;
  return (
    <Dialog title={`Test ${credential.label}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          test.mutate({ id: credential.id, ...(to.trim() ? { to: to.trim() } : {}) });
        }}
      >
        {toLabel ? (
          <div className="field">
            <label htmlFor="credential-test-to">{toLabel}</label>
            <input id="credential-test-to" value={to} onChange={(e) => setTo(e.target.value)} />
          </div>
        ) : (
          <p className="muted">Sends a test call to the configured URL.</p>
        )}
        <MutationError error={test.error} />
        {test.data ? (
          <p
            role="status"
            className={test.data.ok ? "" : "form-error"}
            data-testid="credential-test-result"
          >
            {test.data.ok ? "Works: " : "Failed: "}
            {test.data.detail}
          </p>
        ) : null}
        <div className="dialog__actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="primary" disabled={test.isPending}>
            {test.isPending ? "Testing…" : "Run test"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteDialog({ credential, onClose }: { credential: Credential; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.credentials.remove.mutationOptions({
      onSuccess: () =>
        void queryClient.invalidateQueries(trpc.credentials.pathFilter()).then(onClose),
    }),
  );
  return (
    <ConfirmDialog
      title="Delete credential"
      message={`Messages on this channel stop using "${credential.label}" (they fall back to another credential of the same kind, or the server default).`}
      confirmLabel="Delete"
      busy={remove.isPending}
      error={remove.error ? errorMessage(remove.error) : null}
      onConfirm={() => remove.mutate({ id: credential.id })}
      onCancel={onClose}
    />
  );
}

/**
 * issue 17: the addresses to paste into Twilio and SendGrid so they tell Postpath what happened to
 * each message (delivered, bounced, marked as spam, failed), and whether that is set up.
 */
function DeliveryReportsPanel() {
  const trpc = useTRPC();
  const reports = useQuery(trpc.credentials.deliveryReports.queryOptions());
  return (
    <section aria-labelledby="delivery-reports-heading">
      <h3 id="delivery-reports-heading">Delivery reports</h3>
      <p className="muted">
        Your SMS and email providers can tell Postpath what happened after a message left:
        delivered, bounced, marked as spam, or failed. Each report becomes an event on the customer
        (for triggers, waits and splits) and a line in the journey&apos;s history; bounces, spam
        complaints and STOP replies also put the address on the suppression list. Without reports,
        &ldquo;Delivered&rdquo; in analytics means accepted by the provider.
      </p>
      <Loading query={reports} what="delivery report settings">
        {(r) => (
          <dl className="delivery-reports">
            <dt>Text messages (Twilio)</dt>
            <dd>
              <code data-testid="sms-report-url">{r.sms.url}</code>
              <p className="muted">
                {!r.sms.credential
                  ? "Add an SMS credential first: its auth token proves the reports come from Twilio."
                  : r.sms.requested
                    ? "On: every text message asks Twilio to report to this address."
                    : "Off: rotate the SMS credential and tick “Ask Twilio to report deliveries…”."}
              </p>
            </dd>
            <dt>Email (SendGrid)</dt>
            <dd>
              <code data-testid="email-report-url">{r.email.url}</code>
              <p className="muted">
                {r.email.verificationKey
                  ? "On: paste this address as the Event Webhook's Post URL in SendGrid, with Delivered, Bounced, Dropped, Spam reports, Unsubscribes and Group unsubscribes ticked."
                  : "Off: in SendGrid's Event Webhook settings paste this address as the Post URL, tick Delivered, Bounced, Dropped, Spam reports, Unsubscribes and Group unsubscribes, turn on Signed Event Webhook, then paste its verification key into your SMTP credential (Rotate)."}
              </p>
            </dd>
          </dl>
        )}
      </Loading>
    </section>
  );
}
