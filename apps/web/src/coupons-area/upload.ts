// issue 16: codes pasted or read from a .csv/.txt file, sent to `coupons.addCodes` in parts the
// server takes (it reads at most 256 KB per request; each part says which line of the file it
// starts at, so skipped lines are reported by their line in the file), and the parts' answers
// added up into one result.
import type { AddCodesResult } from "./contract.ts";

/** As the API (packages/api coupons.parse.ts): codes per upload, bytes per request. */
export const MAX_CODES_PER_UPLOAD = 100_000;
export const MAX_PART_BYTES = 200 * 1024;
/** A file bigger than this is refused before it is read. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Skipped lines listed one by one (all are counted). */
export const SKIPPED_LINES_LISTED = 50;

export interface UploadPart {
  text: string;
  firstLine: number;
}

const encoder = new TextEncoder();

/** Lines with something on them: at most one more than the codes (a header line). */
export function countFilledLines(text: string): number {
  let n = 0;
  for (const line of text.split(/\r\n|\n|\r/)) if (line.trim() !== "") n++;
  return n;
}

/** Whole lines, each part at most `maxBytes` of UTF-8 (a longer single line is its own part). */
export function splitIntoParts(text: string, maxBytes = MAX_PART_BYTES): UploadPart[] {
  const lines = text.split(/\r\n|\n|\r/);
  const parts: UploadPart[] = [];
  let current: string[] = [];
  let bytes = 0;
  let firstLine = 1;
  lines.forEach((line, i) => {
    const size = encoder.encode(line).length + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      parts.push({ text: current.join("\n"), firstLine });
      current = [];
      bytes = 0;
      firstLine = i + 1;
    }
    current.push(line);
    bytes += size;
  });
  if (current.some((l) => l.trim() !== "")) parts.push({ text: current.join("\n"), firstLine });
  return parts;
}

/**
 * A file's text: UTF-8, or UTF-16 when it starts with a byte-order mark (Excel's "Unicode text").
 * Null with a reason when it is too big or is not text.
 */
export async function readCodesFile(file: Blob): Promise<{ text: string } | { problem: string }> {
  if (file.size > MAX_FILE_BYTES)
    return { problem: "This file is larger than 10 MB. Split it into smaller files." };
  const bytes = new Uint8Array(await file.arrayBuffer());
  const utf16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? "utf-16le"
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? "utf-16be"
        : null;
  const text = new TextDecoder(utf16 ?? "utf-8").decode(bytes);
  if (text.includes("\u0000"))
    return {
      problem:
        "This doesn't look like a text or CSV file. Save it as “CSV UTF-8” or plain text and try again.",
    };
  return { text };
}

/** The problem with sending `text` at all (too many codes), or null. */
export function uploadProblem(text: string): string | null {
  if (text.trim() === "") return "Paste some codes or choose a file first.";
  if (text.includes("\u0000"))
    return "Remove the invisible control characters (NUL) from the list: they cannot be saved.";
  const lines = countFilledLines(text);
  if (lines > MAX_CODES_PER_UPLOAD + 1)
    return `This list has ${lines.toLocaleString()} lines: add at most ${MAX_CODES_PER_UPLOAD.toLocaleString()} codes at a time. Split it into smaller lists.`;
  return null;
}

export function emptyResult(): AddCodesResult {
  return {
    added: 0,
    alreadyInPool: 0,
    repeated: 0,
    invalid: [],
    invalidCount: 0,
    headerSkipped: false,
    codes: 0,
    left: 0,
    stock: "empty",
  };
}

/** The parts' answers as one: counts added up, the pool's figures from the last part. */
export function addUp(total: AddCodesResult, part: AddCodesResult): AddCodesResult {
  return {
    added: total.added + part.added,
    alreadyInPool: total.alreadyInPool + part.alreadyInPool,
    repeated: total.repeated + part.repeated,
    invalid: [...total.invalid, ...part.invalid].slice(0, SKIPPED_LINES_LISTED),
    invalidCount: total.invalidCount + part.invalidCount,
    headerSkipped: total.headerSkipped || part.headerSkipped,
    codes: part.codes,
    left: part.left,
    stock: part.stock,
  };
}
