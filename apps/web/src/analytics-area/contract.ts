// issue 17: the shapes the journey analytics page reads from the API (`analytics.*`).
// `contract-check.ts` proves at compile time that the real router's outputs fit these.
export interface StepFigures {
  stepId: string;
  name: string;
  kind: string;
  type: string;
  entered: number;
  waitingNow: number;
  /** issue 18: runs moved here from an older version / from here to a newer one on publish. */
  movedIn: number;
  movedOut: number;
  sent: number;
  failed: number;
  converted: number;
  /** From the rollups: accepted by the provider; opens and clicks (total, unique). */
  delivered: number;
  opened: number;
  uniqueOpens: number;
  clicked: number;
  uniqueClicks: number;
  /** Attributed conversions (the `rule`) and their revenue. */
  conversions: number;
  revenue: number;
  revenuePerRecipient: number;
  variants: { variant: string; entered: number; conversions: number; revenue: number }[];
}

export interface VersionFigures {
  versionId: string;
  version: number;
  status: string;
  publishedAt: string;
  steps: StepFigures[];
}

export interface StepsAnswer {
  versions: VersionFigures[];
  all: StepFigures[];
  /** How conversions and revenue are attributed, in words. */
  rule: string;
  /** The workspace's currency (ISO 4217) for the revenue figures. */
  currency: string;
}

export interface DayFigures {
  day: string;
  entries: number;
  sends: number;
  conversions: number;
  revenue: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface ArmReport {
  id: string;
  label: string;
  recipients: number;
  conversions: number;
  conversionRate: number;
  conversionInterval: Interval;
  revenuePerRecipient: number;
  uplift: number | null;
  adjustedPValue: number | null;
  chanceToBeBest: number;
}

export type Verdict =
  | { kind: "collecting"; neededPerArm: number; smallestArm: number }
  | { kind: "sampleRatioMismatch"; pValue: number }
  | { kind: "winner"; armId: string }
  | { kind: "baselineWins"; armId: string }
  | { kind: "noDifference" };

export interface Experiment {
  versionId: string;
  version: number;
  stepId: string;
  report: {
    baselineId: string;
    arms: ArmReport[];
    sampleRatioPValue: number | null;
    plannedPerArm: number;
    verdict: Verdict;
    summary: string;
  };
}
