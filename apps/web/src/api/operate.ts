// The engine's `operate` router as the builder uses it (contract from issue 4): the shapes the
// builder reads. `contract-check.ts` proves the real router's outputs fit them.
import type { NodeCounts } from "../canvas/store.ts";
import { useTRPCClient } from "../trpc.ts";

export type OperateStatus = { status: string };

export type CustomerRun = {
  runId: string;
  status: string;
  /** The status in words ("Waiting", "Left early"). */
  statusWords: string;
  versionId: string;
  versionNumber: number;
  startedAt: string;
  endedAt: string | null;
  currentStepId: string | null;
  /** The current step's name as drawn on the canvas. */
  currentStep: string | null;
  traces: {
    at: string;
    stepId: string | null;
    kind: string;
    detail?: unknown;
    /** The step's name on the canvas, and the line as a sentence (issue 18: no ids or JSON). */
    stepName: string | null;
    text: string;
    /** A wait's end (ISO), shown in local time. */
    until: string | null;
  }[];
};

interface Mutation<I, O> {
  mutate: (input: I) => Promise<O>;
}
interface Query<I, O> {
  query: (input: I) => Promise<O>;
}

export interface OperateClient {
  pause: Mutation<{ journeyId: string }, OperateStatus>;
  resume: Mutation<{ journeyId: string }, OperateStatus>;
  stop: Mutation<{ journeyId: string }, OperateStatus>;
  nodeCounts: Query<{ journeyId: string; versionId?: string }, Record<string, NodeCounts>>;
  customerRuns: Query<{ journeyId: string; customer: string }, CustomerRun[]>;
}

/** The operate procedures through the app's tRPC client (same link, same session cookie). */
export function useOperateClient(): OperateClient {
  return useTRPCClient().operate;
}
