// issue 16: the shapes the Coupons area reads from the API (`coupons.*`). `contract-check.ts`
// proves at compile time that the real router's outputs fit these.

/** "empty": no code left; "low": fewer than 100 left or under 10 % of the pool. */
export type Stock = "empty" | "low" | "ok";

export interface CouponPoolRow {
  id: string;
  name: string;
  createdAt: string;
  codes: number;
  left: number;
  used: number;
  stock: Stock;
  /** Journeys whose coupon step gives codes from the pool; `live` when published and running. */
  usedBy: { journeyId: string; name: string; live: boolean }[];
}

export interface AddCodesResult {
  added: number;
  alreadyInPool: number;
  repeated: number;
  invalid: { line: number; text: string; reason: string }[];
  invalidCount: number;
  headerSkipped: boolean;
  codes: number;
  left: number;
  stock: Stock;
}
