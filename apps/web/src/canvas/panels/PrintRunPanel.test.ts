// Print run progress (issue 14): records and pages are counted right however the bytes are cut.
import { describe, expect, it } from "vitest";
import { csvRecordCounter, pdfPageCounter } from "./PrintRunPanel.tsx";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Feeds `text` in pieces of `size` bytes; the count after the last piece. */
function feed(counter: (chunk: Uint8Array) => number, text: string, size: number): number {
  const all = bytes(text);
  let n = 0;
  for (let i = 0; i < all.length; i += size) n = counter(all.subarray(i, i + size));
  return n;
}

describe("print run progress", () => {
  it("counts CSV records, not line breaks inside quoted names", () => {
    const csv =
      'customer_id,name\r\nada,Ada\r\njean,"Jean ""JJ"", Jr.\nSecond line"\r\nmallory,\'=cmd\r\n';
    for (const size of [1, 2, 5, 1000]) expect(feed(csvRecordCounter(), csv, size)).toBe(4);
  });

  it("counts PDF page objects split across chunks, not the /Pages tree", () => {
    const pdf =
      "%PDF-1.3\n1 0 obj\n<<\n/Type /Pages\n/Count 2\n>>\n2 0 obj\n<<\n/Type /Page\n/Parent 1 0 R\n>>\n" +
      "3 0 obj\n<<\n/Type /Page\n/Parent 1 0 R\n>>\ntrailer\n%%EOF\n";
    for (const size of [1, 3, 7, 11, 12, 1000]) expect(feed(pdfPageCounter(), pdf, size)).toBe(2);
  });
});
