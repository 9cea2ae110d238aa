import type { JourneyStatus } from "../api/contract.ts";

const STATUS_LABELS: Record<JourneyStatus, string> = {
  DRAFT: "Draft",
  LIVE: "Live",
  PAUSED: "Paused",
  STOPPED: "Stopped",
  ARCHIVED: "Archived",
};

export function StatusBadge({ status }: { status: JourneyStatus }) {
  return <span className={`status status--${status.toLowerCase()}`}>{STATUS_LABELS[status]}</span>;
}
