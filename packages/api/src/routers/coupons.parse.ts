// Coupon codes as a marketer pastes them or exports them from a shop (Shopify, WooCommerce, a
// spreadsheet): one code per line, or a CSV/TSV file whose first column is the code. Pure: the
// router (coupons.ts) stores what this returns. Blank lines are dropped, a header line is
// recognised ("Code", "Coupon code", …), codes repeated within the upload are counted once, and
// every line that is not a usable code is reported by its line number with the reason.

/** A code is at most this many characters (Braze and Klaviyo codes are far shorter). */
export const MAX_CODE_LENGTH = 64;
/** At most this many codes (lines with something on them) in one upload. */
export const MAX_CODES_PER_UPLOAD = 100_000;
/**
 * At most this many bytes (UTF-8) of text in one request: the server takes 512 KB per request,
 * so the web app sends a bigger file in parts (each part says which line it starts at).
 */
export const MAX_UPLOAD_BYTES = 256 * 1024;
/** At most this many invalid lines are listed one by one (all are counted). */
export const INVALID_LINES_LISTED = 50;

export interface InvalidLine {
  /** 1-based, counted in the whole upload (the part's `firstLine` added). */
  line: number;
  /** What was on the line (cut to 80 characters). */
  text: string;
  reason: string;
}

export interface ParsedCodes {
  /** Distinct valid codes, in the order they came. */
  codes: string[];
  /** Valid codes that came again further down the same upload (counted once). */
  repeated: number;
  /** The first INVALID_LINES_LISTED invalid lines. */
  invalid: InvalidLine[];
  invalidCount: number;
  /** Lines with a code on them (valid or not, repeats included): what the cap counts. */
  lines: number;
  headerSkipped: boolean;
}

// Letters, marks, digits, punctuation and symbols: no spaces, no control or invisible characters.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]+$/u;
const SPACE = /\s/u;
const HEADER_WORDS = new Set(
  [
    "code",
    "coupon",
    "couponcode",
    "promo",
    "promocode",
    "promotioncode",
    "discount",
    "discountcode",
    "voucher",
    "vouchercode",
    "giftcode",
    "redemptioncode",
    "uniquecode",
  ].flatMap((w) => [w, `${w}s`]),
);

/** The first column of a CSV/TSV line (a quoted cell may hold the separator). */
export function firstCell(line: string): string {
  if (line.trimStart().startsWith('"')) {
    const start = line.indexOf('"') + 1;
    let out = "";
    for (let i = start; i < line.length; i++) {
      const ch = line[i];
      if (ch === '"') {
        if (line[i + 1] === '"') {
          out += '"';
          i++;
        } else return out;
      } else out += ch;
    }
    return out; // no closing quote: everything after the opening one
  }
  const end = line.search(/[,;\t]/);
  return end < 0 ? line : line.slice(0, end);
}

/** A header such as "Code", "Coupon code", "promo_code": known words, or words with spaces. */
export function looksLikeHeader(cell: string): boolean {
  const squashed = cell.toLowerCase().replace(/[\s_.:#-]+/g, "");
  if (HEADER_WORDS.has(squashed)) return true;
  return /^\p{L}+(?: \p{L}+)+$/u.test(cell.trim());
}

/** Why `code` cannot be a coupon code, in the marketer's words; null when it can. */
export function codeProblem(code: string): string | null {
  // U+FFFD: bytes the file's reader could not decode (a file that is not UTF-8 text).
  if (code.includes("\uFFFD"))
    return "This line has a character that could not be read: save the file as “CSV UTF-8” or plain text.";
  if (SPACE.test(code)) return "A code can't have spaces in it.";
  if ([...code].length > MAX_CODE_LENGTH)
    return `A code can be at most ${MAX_CODE_LENGTH} characters long.`;
  if (!PRINTABLE.test(code))
    return "A code can only have letters, digits and punctuation (no invisible characters).";
  return null;
}

/**
 * The codes in `text`; `firstLine` is the number of its first line in the whole upload (a part
 * of a bigger file). Only the upload's first part (firstLine 1) may start with a header.
 */
export function parseCouponCodes(text: string, firstLine = 1): ParsedCodes {
  const body = firstLine === 1 && text.startsWith("\uFEFF") ? text.slice(1) : text;
  const rows = body.split(/\r\n|\n|\r/);
  const seen = new Set<string>();
  const codes: string[] = [];
  const invalid: InvalidLine[] = [];
  let invalidCount = 0;
  let repeated = 0;
  let lines = 0;
  let headerSkipped = false;
  let first = firstLine === 1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] ?? "";
    if (row.trim() === "") continue;
    const cell = firstCell(row).trim();
    if (first) {
      first = false;
      if (looksLikeHeader(cell)) {
        headerSkipped = true;
        continue;
      }
    }
    lines++;
    const problem = cell === "" ? "There is no code in the first column." : codeProblem(cell);
    if (problem) {
      invalidCount++;
      if (invalid.length < INVALID_LINES_LISTED)
        invalid.push({
          line: firstLine + i,
          text: [...row].slice(0, 80).join(""),
          reason: problem,
        });
      continue;
    }
    if (seen.has(cell)) {
      repeated++;
      continue;
    }
    seen.add(cell);
    codes.push(cell);
  }
  return { codes, repeated, invalid, invalidCount, lines, headerSkipped };
}
