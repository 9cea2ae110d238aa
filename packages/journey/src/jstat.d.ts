// The part of jstat (https://jstat.github.io) the experiment statistics use; jstat ships no types.
declare module "jstat" {
  interface Continuous {
    cdf(x: number, ...params: number[]): number;
    pdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }
  export const jStat: {
    normal: Continuous;
    studentt: Continuous;
    chisquare: Continuous;
    beta: Continuous;
    betaln(a: number, b: number): number;
  };
  /** jstat is CommonJS: Node's ESM loader offers only its default export (module.exports). */
  const jstat: { jStat: typeof jStat };
  export default jstat;
}
