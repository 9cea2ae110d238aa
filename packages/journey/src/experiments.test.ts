// The experiment statistics against published worked examples (each cited), plus a simulation of
// A/A tests: identical variants must not "win" more often than the significance level says.
import { jStat } from "jstat";
import { describe, expect, it } from "vitest";
import {
  analyseExperiment,
  chanceToBeBest,
  chiSquareGoodnessOfFit,
  chiSquareIndependence,
  holmAdjust,
  plannedSamplePerArm,
  summarise,
  twoProportionPValue,
  welchTest,
  wilsonInterval,
  DEFAULT_EXPERIMENT_OPTIONS,
  type ArmFigures,
} from "./experiments.ts";

function sample(values: number[]) {
  return summarise(
    values.length,
    values.reduce((s, v) => s + v, 0),
    values.reduce((s, v) => s + v * v, 0),
  );
}

describe("worked examples", () => {
  it("Wilson interval: Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3", () => {
    const a = wilsonInterval(81, 263);
    expect(a.low).toBeCloseTo(0.2553, 4);
    expect(a.high).toBeCloseTo(0.3662, 4);
    const b = wilsonInterval(15, 148);
    expect(b.low).toBeCloseTo(0.0624, 4);
    expect(b.high).toBeCloseTo(0.1605, 4);
  });

  it("chi-square over k proportions: R's ?prop.test example (smokers), X-squared = 12.6, df = 3, p = 0.005585", () => {
    const r = chiSquareIndependence([83, 90, 129, 70], [86, 93, 136, 82]);
    expect(r.statistic).toBeCloseTo(12.6, 1);
    expect(r.df).toBe(3);
    expect(r.pValue).toBeCloseTo(0.005585, 5);
  });

  it("the two-proportion z-test is the 2 × 2 chi-square test (z² = X²)", () => {
    const p = twoProportionPValue(83, 86, 90, 93);
    const chi = chiSquareIndependence([83, 90], [86, 93]);
    expect(p).toBeCloseTo(chi.pValue, 10);
    expect(twoProportionPValue(50, 1000, 50, 1000)).toBe(1);
  });

  it("goodness of fit: Mendel's peas 315/108/101/32 against 9:3:3:1, X-squared = 0.470, p = 0.9254", () => {
    const r = chiSquareGoodnessOfFit([315, 108, 101, 32], [9, 3, 3, 1]);
    expect(r.statistic).toBeCloseTo(0.47, 2);
    expect(r.pValue).toBeCloseTo(0.9254, 4);
  });

  it("Welch's t-test: R's t.test(extra ~ group, data = sleep), t = -1.8608, df = 17.776, p = 0.07939", () => {
    const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    const r = welchTest(sample(g1), sample(g2));
    expect(r?.t).toBeCloseTo(-1.8608, 4);
    expect(r?.df).toBeCloseTo(17.776, 3);
    expect(r?.pValue).toBeCloseTo(0.07939, 5);
    expect(welchTest(sample([1]), sample(g2))).toBeNull();
  });

  it("Holm: R's p.adjust(c(0.01, 0.04, 0.03, 0.005), 'holm') = 0.03 0.06 0.06 0.02", () => {
    const r = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((want, i) => expect(r[i]).toBeCloseTo(want, 10));
  });

  it("chance to be best matches Evan Miller's closed form for two Beta posteriors", () => {
    // P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i) B(1+i, β_B) B(α_A, β_A))
    // (E. Miller, "Formulas for Bayesian A/B Testing", 2015).
    const closedForm = (aA: number, bA: number, aB: number, bB: number) => {
      let total = 0;
      for (let i = 0; i < aB; i++)
        total += Math.exp(
          jStat.betaln(aA + i, bA + bB) -
            Math.log(bB + i) -
            jStat.betaln(1 + i, bB) -
            jStat.betaln(aA, bA),
        );
      return total;
    };
    for (const [cA, nA, cB, nB] of [
      [20, 200, 30, 200],
      [5, 40, 4, 40],
      [120, 2400, 150, 2500],
    ] as const) {
      const [pA, pB] = chanceToBeBest([
        { conversions: cA, recipients: nA },
        { conversions: cB, recipients: nB },
      ]);
      const want = closedForm(1 + cA, 1 + nA - cA, 1 + cB, 1 + nB - cB);
      expect(pB).toBeCloseTo(want, 4);
      expect((pA ?? 0) + (pB ?? 0)).toBeCloseTo(1, 8);
    }
  });

  it("sample size: the closed form that R's power.prop.test solves (strict = FALSE) for 50 % → 60 %", () => {
    // n = (z_{α/2}·√(2p̄q̄) + z_β·√(p1q1 + p2q2))² / (p2 − p1)², p̄ = (p1 + p2)/2; with p1 = 0.5,
    // p2 = 0.6, α = 0.05, power = 0.8: 387.3 → 388 per group.
    const n = plannedSamplePerArm(
      { alpha: 0.05, power: 0.8, minimumDetectableEffect: 0.2, expectedBaselineRate: 0.5 },
      1,
    );
    expect(n).toBe(388);
    // More comparisons need more recipients (alpha is split).
    expect(plannedSamplePerArm(DEFAULT_EXPERIMENT_OPTIONS, 3)).toBeGreaterThan(
      plannedSamplePerArm(DEFAULT_EXPERIMENT_OPTIONS, 1),
    );
  });
});

const arm = (id: string, percent: number, recipients: number, conversions: number): ArmFigures => ({
  id,
  label: id === "holdout" ? "Holdout" : `Variant ${id.toUpperCase()}`,
  percent,
  recipients: Math.round(recipients),
  conversions: Math.round(conversions),
  revenue: { sum: Math.round(conversions) * 50, sumOfSquares: Math.round(conversions) * 2500 },
});

describe("verdicts", () => {
  const opts = { expectedBaselineRate: 0.1, minimumDetectableEffect: 0.3 };

  it("withholds the verdict until every variant has the planned sample", () => {
    const r = analyseExperiment([arm("a", 50, 300, 60), arm("b", 50, 300, 20)], opts);
    expect(r.verdict.kind).toBe("collecting");
    expect(r.summary).toMatch(/^Collecting: the smallest variant has 300 of [\d,]+ recipients/);
  });

  it("names the winner against the holdout once the horizon is reached", () => {
    const n = plannedSamplePerArm({ ...DEFAULT_EXPERIMENT_OPTIONS, ...opts }, 2);
    const r = analyseExperiment(
      [arm("a", 45, n, n * 0.1), arm("b", 45, n, n * 0.16), arm("holdout", 10, n / 4.5, n / 45)],
      opts,
    );
    // The holdout is smaller than planned: still collecting.
    expect(r.verdict.kind).toBe("collecting");
    const full = analyseExperiment(
      [arm("a", 33, n, n * 0.1), arm("b", 33, n, n * 0.16), arm("holdout", 34, n, n * 0.1)],
      opts,
    );
    expect(full.baselineId).toBe("holdout");
    expect(full.verdict).toEqual({ kind: "winner", armId: "b" });
    expect(full.summary).toMatch(/^Variant B converts better than Holdout\./);
    const b = full.arms.find((x) => x.id === "b");
    expect(b?.uplift).toBeCloseTo(0.6, 6);
    expect(b?.adjustedPValue).toBeLessThan(0.05);
    expect(b?.chanceToBeBest).toBeGreaterThan(0.99);
    expect(full.arms.find((x) => x.id === "holdout")?.pValue).toBeNull();
  });

  it("refuses a verdict when the split is not what was configured", () => {
    const r = analyseExperiment([arm("a", 50, 10_000, 1000), arm("b", 50, 11_000, 1500)], opts);
    expect(r.verdict.kind).toBe("sampleRatioMismatch");
    expect(r.summary).toMatch(/^Check the split/);
  });
});

/** mulberry32: a small seeded generator, so the simulation is the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("A/A simulation", () => {
  it("two identical variants over 1,000 experiments declare a difference about 5 % of the time", () => {
    const options = { expectedBaselineRate: 0.1, minimumDetectableEffect: 0.3 };
    const n = plannedSamplePerArm({ ...DEFAULT_EXPERIMENT_OPTIONS, ...options }, 1);
    const random = rng(20261204);
    const draw = () => {
      let c = 0;
      for (let i = 0; i < n; i++) if (random() < 0.1) c++;
      return c;
    };
    let declared = 0;
    const experiments = 1000;
    for (let e = 0; e < experiments; e++) {
      const r = analyseExperiment([arm("a", 50, n, draw()), arm("b", 50, n, draw())], options);
      expect(r.verdict.kind).not.toBe("collecting");
      if (r.verdict.kind === "winner" || r.verdict.kind === "baselineWins") declared++;
    }
    // α = 5 %: with 1,000 experiments the rate lies within 5 % ± 1.4 % (3 standard errors).
    expect(declared / experiments).toBeLessThanOrEqual(0.064);
    expect(declared / experiments).toBeGreaterThanOrEqual(0.036);
  });
});
