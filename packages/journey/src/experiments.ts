// Experiment statistics for random splits (issue 17, item 5): per variant, the conversion rate with
// a 95 % interval, revenue per recipient, uplift against the holdout (or the first variant), and a
// verdict. Pure functions over counts the analytics rollups keep; the distributions come from jstat.
//
// The approach is a **fixed horizon**: before the experiment starts we know how many recipients
// each variant needs to detect the smallest uplift worth acting on (the minimum detectable effect)
// with the chosen significance and power. Until every variant has that many, there is no verdict,
// only "collecting" — a marketer opening the page every morning would otherwise "peek" until noise
// crosses the line (with daily looks over a month, a 5 % test declares a false winner far more
// often than 5 % of the time). Sequential tests (alpha spending, always-valid p-values) allow
// earlier stops but are harder to explain; a post-purchase journey runs for weeks anyway. The
// caller passes the figures at the horizon (the first `plannedPerArm` recipients of each variant,
// by entry), so later arrivals cannot flip a verdict already given.
//
// The verdict: a two-proportion z-test of each variant against the baseline (holdout, else the
// first variant), Holm-corrected over the comparisons when there are more than two arms, next to
// a chi-square test over all arms; a Bayesian "chance to be best" from Beta(1 + conversions,
// 1 + non-conversions) posteriors shown beside it (not used for the verdict); Welch's t-test for
// revenue per recipient; and a sample-ratio-mismatch check (chi-square goodness of fit of the
// recipients against the configured percentages, p < 0.001) that withholds the verdict, since a
// split that is not what was configured means the assignment or the tracking is broken.
// jstat ships no types; the declaration travels with this file into the packages that compile it.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./jstat.d.ts" />
import jstat from "jstat";

// A default import: jstat is CommonJS, and Node's ESM loader (tsx, `pnpm start`) finds no named
// export in it ("does not provide an export named 'jStat'"); Vite and Vitest accept both forms.
const { jStat } = jstat;

export interface ArmFigures {
  /** The split's branch id ("a", "b", "holdout"). */
  id: string;
  label: string;
  /** Share of entries configured for this arm, in percent (for the mismatch check). */
  percent: number;
  recipients: number;
  conversions: number;
  /** Revenue attributed to the arm's recipients: sum and sum of squares per recipient. */
  revenue: { sum: number; sumOfSquares: number };
}

export interface ExperimentOptions {
  /** Significance level of the verdict (two-sided). */
  alpha: number;
  /** Chance of detecting an uplift of `minimumDetectableEffect` if there is one. */
  power: number;
  /** Smallest relative uplift of the conversion rate worth detecting (0.2 = +20 %). */
  minimumDetectableEffect: number;
  /** Conversion rate expected for the baseline before any data (planning the horizon). */
  expectedBaselineRate: number;
}

export const DEFAULT_EXPERIMENT_OPTIONS: ExperimentOptions = {
  alpha: 0.05,
  power: 0.8,
  minimumDetectableEffect: 0.2,
  expectedBaselineRate: 0.05,
};

/** p below this in the sample-ratio check means the split is broken (the usual threshold). */
export const SAMPLE_RATIO_ALPHA = 0.001;

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
  /** Wilson score interval, 95 %. */
  conversionInterval: Interval;
  revenuePerRecipient: number;
  /** Relative uplift of the conversion rate against the baseline (null for the baseline). */
  uplift: number | null;
  /** Two-proportion z-test against the baseline: raw and Holm-adjusted p (null for the baseline). */
  pValue: number | null;
  adjustedPValue: number | null;
  /** Welch's t-test of revenue per recipient against the baseline (null: baseline or too few). */
  revenuePValue: number | null;
  /** Bayesian chance that this arm has the highest conversion rate. */
  chanceToBeBest: number;
}

export type Verdict =
  | { kind: "collecting"; neededPerArm: number; smallestArm: number }
  | { kind: "sampleRatioMismatch"; pValue: number }
  | { kind: "winner"; armId: string }
  | { kind: "baselineWins"; armId: string }
  | { kind: "noDifference" };

export interface ExperimentReport {
  baselineId: string;
  arms: ArmReport[];
  /** Chi-square test of independence over every arm (conversions × arms). */
  overallPValue: number | null;
  /** Chi-square goodness of fit of the recipients against the configured split. */
  sampleRatioPValue: number | null;
  plannedPerArm: number;
  verdict: Verdict;
  /** The verdict in a marketer's words, with the rule it follows. */
  summary: string;
}

/** Wilson score interval for a proportion (Newcombe 1998, method 3). */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const z = jStat.normal.inv(1 - (1 - confidence) / 2, 0, 1);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Two-sided p of the pooled two-proportion z-test (no continuity correction). */
export function twoProportionPValue(c1: number, n1: number, c2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 1;
  const pooled = (c1 + c2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = (c1 / n1 - c2 / n2) / se;
  return 2 * (1 - jStat.normal.cdf(Math.abs(z), 0, 1));
}

/** Chi-square test of independence on a k × 2 table (successes, failures), no correction. */
export function chiSquareIndependence(
  successes: number[],
  totals: number[],
): {
  statistic: number;
  df: number;
  pValue: number;
} {
  const n = totals.reduce((s, t) => s + t, 0);
  const c = successes.reduce((s, t) => s + t, 0);
  const df = totals.length - 1;
  if (n === 0 || c === 0 || c === n || df < 1) return { statistic: 0, df, pValue: 1 };
  let statistic = 0;
  totals.forEach((t, i) => {
    const s = successes[i] ?? 0;
    const es = (t * c) / n;
    const ef = (t * (n - c)) / n;
    if (es > 0) statistic += (s - es) ** 2 / es;
    if (ef > 0) statistic += (t - s - ef) ** 2 / ef;
  });
  return { statistic, df, pValue: 1 - jStat.chisquare.cdf(statistic, df) };
}

/** Chi-square goodness of fit of observed counts against expected proportions. */
export function chiSquareGoodnessOfFit(
  observed: number[],
  proportions: number[],
): {
  statistic: number;
  df: number;
  pValue: number;
} {
  const n = observed.reduce((s, o) => s + o, 0);
  const total = proportions.reduce((s, p) => s + p, 0);
  const df = observed.length - 1;
  if (n === 0 || total <= 0 || df < 1) return { statistic: 0, df, pValue: 1 };
  let statistic = 0;
  observed.forEach((o, i) => {
    const e = (n * (proportions[i] ?? 0)) / total;
    if (e > 0) statistic += (o - e) ** 2 / e;
  });
  return { statistic, df, pValue: 1 - jStat.chisquare.cdf(statistic, df) };
}

/** Holm's step-down adjustment (Holm 1979): adjusted p-values in the input's order. */
export function holmAdjust(pValues: number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface SampleSummary {
  n: number;
  mean: number;
  variance: number;
}

/** Mean and sample variance of per-recipient values from their count, sum and sum of squares. */
export function summarise(n: number, sum: number, sumOfSquares: number): SampleSummary {
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 1 ? Math.max(0, (sumOfSquares - n * mean * mean) / (n - 1)) : 0;
  return { n, mean, variance };
}

/** Welch's unequal-variances t-test, two-sided. */
export function welchTest(
  a: SampleSummary,
  b: SampleSummary,
): {
  t: number;
  df: number;
  pValue: number;
} | null {
  if (a.n < 2 || b.n < 2) return null;
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  if (va + vb === 0) return { t: 0, df: a.n + b.n - 2, pValue: 1 };
  const t = (a.mean - b.mean) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return { t, df, pValue: 2 * (1 - jStat.studentt.cdf(Math.abs(t), df)) };
}

/**
 * Chance that each arm's conversion rate is the highest, under independent Beta(1 + c, 1 + n − c)
 * posteriors (uniform priors): P(i best) = ∫ f_i(x) Π_{j≠i} F_j(x) dx, by Simpson's rule over the
 * range where the posteriors have their mass.
 */
export function chanceToBeBest(arms: { conversions: number; recipients: number }[]): number[] {
  if (arms.length === 0) return [];
  if (arms.length === 1) return [1];
  const params = arms.map((a) => [1 + a.conversions, 1 + a.recipients - a.conversions] as const);
  const lo = Math.min(...params.map(([a, b]) => jStat.beta.inv(1e-9, a, b)));
  const hi = Math.max(...params.map(([a, b]) => jStat.beta.inv(1 - 1e-9, a, b)));
  const steps = 800; // even, for Simpson's rule
  const h = (hi - lo) / steps;
  const sums = params.map(() => 0);
  for (let k = 0; k <= steps; k++) {
    const x = lo + k * h;
    const weight = k === 0 || k === steps ? 1 : k % 2 === 1 ? 4 : 2;
    const cdfs = params.map(([a, b]) => jStat.beta.cdf(x, a, b));
    params.forEach(([a, b], i) => {
      let others = 1;
      cdfs.forEach((c, j) => {
        if (j !== i) others *= c;
      });
      sums[i]! += weight * jStat.beta.pdf(x, a, b) * others;
    });
  }
  const raw = sums.map((s) => (s * h) / 3);
  const total = raw.reduce((s, r) => s + r, 0);
  return raw.map((r) => (total > 0 ? r / total : 1 / arms.length));
}

/**
 * Recipients each arm needs (fixed horizon): the two-proportion sample size for a baseline rate
 * `p1` and the rate `p1 × (1 + mde)`, two-sided `alpha` split over the comparisons (Bonferroni,
 * which Holm never needs more than), at `power`.
 */
export function plannedSamplePerArm(opts: ExperimentOptions, comparisons: number): number {
  const p1 = opts.expectedBaselineRate;
  const p2 = Math.min(0.999999, p1 * (1 + opts.minimumDetectableEffect));
  const alpha = opts.alpha / Math.max(1, comparisons);
  const za = jStat.normal.inv(1 - alpha / 2, 0, 1);
  const zb = jStat.normal.inv(opts.power, 0, 1);
  const pBar = (p1 + p2) / 2;
  const root =
    za * Math.sqrt(2 * pBar * (1 - pBar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((root / (p2 - p1)) ** 2);
}

const percent = (x: number) =>
  `${(x * 100).toLocaleString("en-US", { maximumFractionDigits: 1 })} %`;

/** The full report for one random split; `arms` in the split's order, the holdout among them. */
export function analyseExperiment(
  arms: ArmFigures[],
  options: Partial<ExperimentOptions> = {},
): ExperimentReport {
  const opts = { ...DEFAULT_EXPERIMENT_OPTIONS, ...options };
  const baseline = arms.find((a) => a.id === "holdout") ?? arms[0];
  if (!baseline) throw new Error("an experiment needs at least one arm");
  const others = arms.filter((a) => a !== baseline);
  const raw = others.map((a) =>
    twoProportionPValue(a.conversions, a.recipients, baseline.conversions, baseline.recipients),
  );
  const adjusted = holmAdjust(raw);
  const best = chanceToBeBest(arms);
  const base = summarise(baseline.recipients, baseline.revenue.sum, baseline.revenue.sumOfSquares);
  const rate = (a: ArmFigures) => (a.recipients > 0 ? a.conversions / a.recipients : 0);

  const reports: ArmReport[] = arms.map((a, i) => {
    const k = others.indexOf(a);
    const summary = summarise(a.recipients, a.revenue.sum, a.revenue.sumOfSquares);
    return {
      id: a.id,
      label: a.label,
      recipients: a.recipients,
      conversions: a.conversions,
      conversionRate: rate(a),
      conversionInterval: wilsonInterval(a.conversions, a.recipients),
      revenuePerRecipient: summary.mean,
      uplift: k < 0 || rate(baseline) === 0 ? null : rate(a) / rate(baseline) - 1,
      pValue: k < 0 ? null : (raw[k] ?? null),
      adjustedPValue: k < 0 ? null : (adjusted[k] ?? null),
      revenuePValue: k < 0 ? null : (welchTest(summary, base)?.pValue ?? null),
      chanceToBeBest: best[i] ?? 0,
    };
  });

  const overall =
    arms.length > 1
      ? chiSquareIndependence(
          arms.map((a) => a.conversions),
          arms.map((a) => a.recipients),
        ).pValue
      : null;
  const ratio =
    arms.length > 1
      ? chiSquareGoodnessOfFit(
          arms.map((a) => a.recipients),
          arms.map((a) => a.percent),
        ).pValue
      : null;
  const plannedPerArm = plannedSamplePerArm(opts, others.length);
  const smallestArm = Math.min(...arms.map((a) => a.recipients));

  let verdict: Verdict;
  if (ratio !== null && ratio < SAMPLE_RATIO_ALPHA) {
    verdict = { kind: "sampleRatioMismatch", pValue: ratio };
  } else if (smallestArm < plannedPerArm) {
    verdict = { kind: "collecting", neededPerArm: plannedPerArm, smallestArm };
  } else {
    const significant = reports.filter(
      (r) => r.adjustedPValue !== null && r.adjustedPValue < opts.alpha,
    );
    const better = significant.filter((r) => (r.uplift ?? 0) > 0);
    if (better.length > 0) {
      const top = better.reduce((a, b) => (b.conversionRate > a.conversionRate ? b : a));
      verdict = { kind: "winner", armId: top.id };
    } else if (significant.length === others.length && others.length > 0) {
      verdict = { kind: "baselineWins", armId: baseline.id };
    } else {
      verdict = { kind: "noDifference" };
    }
  }

  const labelOf = (id: string) => arms.find((a) => a.id === id)?.label ?? id;
  const rule = `Fixed horizon: ${plannedPerArm.toLocaleString("en-US")} recipients per variant to detect a ${percent(opts.minimumDetectableEffect)} uplift on a ${percent(opts.expectedBaselineRate)} conversion rate (${percent(opts.power)} power, ${percent(opts.alpha)} significance${others.length > 1 ? ", Holm-corrected" : ""}).`;
  const summary = {
    collecting: () =>
      `Collecting: the smallest variant has ${smallestArm.toLocaleString("en-US")} of ${plannedPerArm.toLocaleString("en-US")} recipients. No verdict before then — looking early makes false winners likely.`,
    sampleRatioMismatch: () =>
      `Check the split: recipients are not divided as configured (p = ${ratio?.toPrecision(2)}). Results are withheld until the cause is found.`,
    winner: () =>
      `${labelOf((verdict as { armId: string }).armId)} converts better than ${baseline.label}.`,
    baselineWins: () => `${baseline.label} converts better than every variant.`,
    noDifference: () =>
      `No variant converts measurably differently from ${baseline.label} at this sample size.`,
  }[verdict.kind]();

  return {
    baselineId: baseline.id,
    arms: reports,
    overallPValue: overall,
    sampleRatioPValue: ratio,
    plannedPerArm,
    verdict,
    summary: `${summary} ${rule}`,
  };
}
