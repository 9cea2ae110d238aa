// issue 18: a test run in the words of the canvas — steps by the name they have there (their own
// name, else their kind of step), decisions as short sentences, branches by their handle labels.
// (The API has its own wording for live traces; the simulator's decisions are the subset here.)
import { branchesOf, stepLabel } from "../steps/index.ts";
import type { StepNode } from "../types.ts";

/** What the canvas calls each step: its name when it has one, else its kind ("Send email"). */
export function canvasNames(nodes: readonly StepNode[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const n of nodes) {
    const label = (n.data.config as { label?: unknown } | null)?.label;
    names.set(
      n.id,
      typeof label === "string" && label.trim() ? label.trim() : stepLabel(n.data.stepType),
    );
  }
  return names;
}

/** The label drawn beside a step's branch handle ("Yes", "Timed out", a variant's name). */
export function branchName(node: StepNode | undefined, branch: string): string {
  if (!node) return branch;
  const found = branchesOf(node.data.stepType, node.data.config).find((b) => b.id === branch);
  return found?.label || branch;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

const CHANNELS: Readonly<Record<string, string>> = {
  email: "email",
  sms: "SMS",
  push: "push notification",
  webhook: "webhook call",
  notify: "team notification",
};

/** A decision of the simulator as a sentence; `then` names the step it led to. */
export function decisionWords(
  decision: string,
  detail: Record<string, unknown>,
  node: StepNode | undefined,
  nameOf: (id: string) => string,
): string {
  const next = str(detail.next);
  const then = next ? ` → “${nameOf(next)}”` : "";
  const branch = str(detail.branch);
  switch (decision) {
    case "entered":
      return "Entered the journey";
    case "wait.scheduled":
      return `Waiting${str(detail.duration) ? ` ${String(detail.duration)}` : ""}${str(detail.until) ? ` until ${String(detail.until)}` : ""}`;
    case "wait.elapsed":
    case "wait.passed":
      return `The wait was over${then}`;
    case "wait.dateMissing":
      return `No date to wait for; moved on${then}`;
    case "event.parked":
      return `Waiting for “${String(detail.event)}”`;
    case "event.arrived":
      return `“${String(detail.event)}” arrived${then}`;
    case "event.timedOut":
      return `“${String(detail.event)}” did not arrive in time${then}`;
    case "split.branch":
      return `Took the “${branch ? branchName(node, branch) : "next"}” path${then}`;
    case "send.requested":
      return `Sending the ${CHANNELS[str(detail.channel) ?? ""] ?? "message"}`;
    case "send.succeeded":
      return `Sent${then}`;
    case "coupon.requested":
      return `Got a coupon code${then}`;
    case "purl.requested":
      return `Made a personal link${then}`;
    case "attributes.updated":
      return `Updated the customer's profile${then}`;
    case "attributes.failed":
      return `Could not update the profile${then}`;
    case "tags.updated":
      return `Updated the customer's tags${then}`;
    case "goal.reached":
    case "goal.converted":
      return `Reached the goal${str(detail.goal) ? ` “${String(detail.goal)}”` : ""}${then}`;
    case "exit.reached":
      return "Reached an exit";
    case "run.completed":
      return "Completed the journey";
    case "run.exited":
      return `Left the journey${str(detail.reason) ? `: ${String(detail.reason)}` : ""}`;
    case "quietHours.held":
      return "Held for quiet hours";
    case "quietHours.skipped":
      return `Not sent: quiet hours${then}`;
    default: {
      if (decision.endsWith(".succeeded")) return `Done${then}`;
      if (decision.endsWith(".failed"))
        return `Failed${branch === "error" ? `, took the “${branchName(node, "error")}” path` : ""}${then}`;
      const words = decision
        .replace(/[._]/g, " ")
        .replace(/([a-z])([A-Z])/g, "$1 $2")
        .toLowerCase();
      return `${words.charAt(0).toUpperCase()}${words.slice(1)}${then}`;
    }
  }
}

/** A message body as plain text: tags of HTML/MJML dropped, whitespace collapsed. */
export function plainText(value: unknown): string {
  if (typeof value !== "string") return value === undefined ? "" : (JSON.stringify(value) ?? "");
  if (!/<[a-z!/]/i.test(value)) return value.trim();
  const doc = new DOMParser().parseFromString(value, "text/html");
  doc.querySelectorAll("style, script, head, mj-style, mj-head").forEach((el) => el.remove());
  return (doc.body.textContent ?? "").replace(/\s+/g, " ").trim();
}
