// CSV downloads of the figures' tables (issue 17, item 7), written by csv-stringify's browser
// build: quoting, and formulas defused (a cell starting with = + - @ is read as text by
// spreadsheets), so a customer-supplied name can't run in the marketer's spreadsheet.
import { stringify } from "csv-stringify/browser/esm/sync";

export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  return stringify([header, ...rows.map((r) => r.map((v) => v ?? ""))], {
    cast: { string: (s) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s) },
  });
}

/** Offers `csv` as a file named `filename` (the browser's download). */
export function downloadCsv(filename: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
