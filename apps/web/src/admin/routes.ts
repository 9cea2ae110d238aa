// Admin routes: `#/admin/<tab>`, and the public invite link `#/invite/<token>`; issue 12: the
// account page `#/account`, the public reset link `#/reset/<token>` and sign-up `#/signup`.
export const ADMIN_TABS = [
  "users",
  "credentials",
  "api-keys",
  "limits",
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
  "dead-letters": "Dead letters",
  queues: "Queues",
  audit: "Audit log",
};

export type AdminRoute =
  | { page: "admin"; tab: AdminTab }
  | { page: "invite"; token: string }
  | { page: "reset"; token: string }
  | { page: "account" }
  | { page: "signup" };

function isTab(s: string): s is AdminTab {
  return (ADMIN_TABS as readonly string[]).includes(s);
}

/** `path` without the leading '#' and trailing slashes; null when it is not an admin route. */
export function parseAdminPath(path: string): AdminRoute | null {
  if (path === "/admin") return { page: "admin", tab: "users" };
  const admin = /^\/admin\/([a-z-]+)$/.exec(path);
  if (admin?.[1] && isTab(admin[1])) return { page: "admin", tab: admin[1] };
  const invite = /^\/invite\/([^/]+)$/.exec(path);
  if (invite?.[1]) return { page: "invite", token: decodeURIComponent(invite[1]) };
  const reset = /^\/reset\/([^/]+)$/.exec(path);
  if (reset?.[1]) return { page: "reset", token: decodeURIComponent(reset[1]) };
  if (path === "/account") return { page: "account" };
  if (path === "/signup") return { page: "signup" };
  return null;
}

export const adminHrefs = {
  admin: (tab: AdminTab = "users") => `#/admin/${tab}`,
  invite: (token: string) => `#/invite/${encodeURIComponent(token)}`,
  reset: (token: string) => `#/reset/${encodeURIComponent(token)}`,
  account: () => "#/account",
  signup: () => "#/signup",
};
