import "./admin.css";
import { ApiKeysSection } from "./ApiKeysSection.tsx";
import { AuditSection } from "./AuditSection.tsx";
import { CredentialsSection } from "./CredentialsSection.tsx";
import { DeadLettersSection } from "./DeadLettersSection.tsx";
import { LimitsSection } from "./LimitsSection.tsx";
import { QueuesSection } from "./QueuesSection.tsx";
import { RevenueSection } from "./RevenueSection.tsx";
import { ADMIN_TAB_LABELS, ADMIN_TABS, adminHrefs, type AdminTab } from "./routes.ts";
import { UsersSection } from "./UsersSection.tsx";

/** Workspace administration. The API enforces the ADMIN role; this page only hides itself from others. */
export function AdminPage({ tab, isAdmin }: { tab: AdminTab; isAdmin: boolean }) {
  if (!isAdmin) {
    return (
      <section className="page">
        <h1>Administration</h1>
        <p className="form-error" role="alert">
          Only admins can manage the workspace. Ask an admin of your workspace.
        </p>
      </section>
    );
  }
  return (
    <section className="page admin" aria-labelledby="admin-title">
      <div className="page__title">
        <h1 id="admin-title">Administration</h1>
      </div>
      <nav className="admin__tabs" aria-label="Administration">
        {ADMIN_TABS.map((t) => (
          <a key={t} href={adminHrefs.admin(t)} aria-current={t === tab ? "page" : undefined}>
            {ADMIN_TAB_LABELS[t]}
          </a>
        ))}
      </nav>
      <AdminSection tab={tab} />
    </section>
  );
}

function AdminSection({ tab }: { tab: AdminTab }) {
  switch (tab) {
    case "users":
      return <UsersSection />;
    case "credentials":
      return <CredentialsSection />;
    case "api-keys":
      return <ApiKeysSection />;
    case "limits":
      return <LimitsSection />;
    case "revenue":
      return <RevenueSection />;
    case "dead-letters":
      return <DeadLettersSection />;
    case "queues":
      return <QueuesSection />;
    case "audit":
      return <AuditSection />;
  }
}
