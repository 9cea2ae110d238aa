import type { RouterOutputs } from "@postpath/api";
import type { ReactNode } from "react";
import { errorMessage } from "../trpc.ts";

export type Outputs = RouterOutputs;

/** Dates arrive as ISO strings (no transformer); shows them in the reader's locale. */
export function When({ at }: { at: string | Date | null | undefined }) {
  if (!at) return <span className="muted">never</span>;
  const d = new Date(at);
  return <time dateTime={d.toISOString()}>{d.toLocaleString()}</time>;
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
