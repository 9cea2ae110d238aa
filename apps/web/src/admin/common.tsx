import type { RouterOutputs } from "@postpath/api";
import type { ReactNode } from "react";
import { formatDateTime } from "../format.ts";
import { errorMessage } from "../trpc.ts";

export type Outputs = RouterOutputs;

/**
 * Dates arrive as ISO strings (no transformer); shown as everywhere else in the app ("Dec 5,
 * 2026, 12:50 AM", not the browser's "12/5/2026, 12:50:27 AM").
 */
export function When({ at }: { at: string | Date | null | undefined }) {
  if (!at) return <span className="muted">never</span>;
  const iso = new Date(at).toISOString();
  return <time dateTime={iso}>{formatDateTime(iso)}</time>;
}

export function Loading<T>({
  query,
  what,
  children,
}: {
  query: {
    isPending: boolean;
    isError: boolean;
    error: { message: string; data?: unknown } | null;
    data: T | undefined;
  };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <p role="status">Loading {what}…</p>;
  if (query.isError || query.data === undefined) {
    return (
      <p className="form-error" role="alert">
        Could not load {what}: {query.error ? errorMessage(query.error) : "no answer"}
      </p>
    );
  }
  return <>{children(query.data)}</>;
}

export function MutationError({ error }: { error: { message: string; data?: unknown } | null }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert">
      {errorMessage(error)}
    </p>
  );
}
