// Admin addresses (routes in router.tsx): `#/admin/<tab>`, and the public invite link `#/invite/<token>`; issue 12: the
// account page `#/account`, the public reset link `#/reset/<token>` and sign-up `#/signup`.
export const ADMIN_TABS = [
  "users",
  "credentials",
  "api-keys",
  "limits",
  "revenue",
  "dead-letters",
  "queues",
  "audit",
] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

export const ADMIN_TAB_LABELS: Record<AdminTab, string> = {
  users: "Users",
  credentials: "Channel credentials",
  "api-keys": "API keys",
  limits: "Sending limits",
  revenue: "Orders & revenue",
  "dead-letters": "Dead letters",
  queues: "Queues",
  audit: "Audit log",
};

/** `#/admin/<tab>` names a tab only for these; any other is not found (router.tsx). */
export function isAdminTab(s: string): s is AdminTab {
  return (ADMIN_TABS as readonly string[]).includes(s);
}

export const adminHrefs = {
  admin: (tab: AdminTab = "users") => `#/admin/${tab}`,
  invite: (token: string) => `#/invite/${encodeURIComponent(token)}`,
  reset: (token: string) => `#/reset/${encodeURIComponent(token)}`,
  account: () => "#/account",
  signup: () => "#/signup",
};
