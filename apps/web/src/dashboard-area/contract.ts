// issue 17: the shape the KPI dashboard reads from the API (`kpis.workspace`).
// `contract-check.ts` proves at compile time that the real router's output fits it.
export interface SecondPurchaseBucket {
  label: string;
  minDays: number;
  maxDays: number | null;
  customers: number;
}

export interface DayOrders {
  day: string;
  orders: number;
  revenue: number;
  journeyRevenue: number;
}

export interface WorkspaceKpis {
  orders: number;
  revenue: number;
  averageOrderValue: number | null;
  customersWhoOrdered: number;
  repeatCustomers: number;
  repeatPurchaseRate: number | null;
  secondPurchase: { customers: number; medianDays: number | null; buckets: SecondPurchaseBucket[] };
  influenced: {
    journeyOrders: number;
    journeyRevenue: number;
    otherOrders: number;
    otherRevenue: number;
  };
  daily: DayOrders[];
  /** The workspace's currency (ISO 4217) for the revenue figures. */
  currency: string;
  definitions: Record<
    "orders" | "averageOrderValue" | "repeatPurchaseRate" | "secondPurchase" | "influenced",
    string
  >;
}
