// issue 12: the one password-strength check. Every place a person chooses a password (invite
// acceptance, sign-up, password change, reset link) goes through `assertStrongPassword`.
// zxcvbn-ts estimates how many guesses a cracker needs, using its common-password, English word
// and name dictionaries plus the person's own email and name; a score of 3 (about 10^8 guesses)
// is the minimum. The dictionaries take a few hundred ms to load: once, on first use.
// The estimator runs on the event loop and some inputs are slow (repeated l33t characters, long
// digit runs): with its defaults a 200-character password took up to 15 s on our CI machine. Only
// the first 64 characters are scored (a longer password scores as its start, never higher) and at
// most 4 l33t substitutions are tried (P@ssw0rd needs 2): the worst input we found then takes
// about 0.2 s.
import { ZxcvbnFactory, type ZxcvbnResult } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

export const MIN_PASSWORD_SCORE = 3;
export const MAX_PASSWORD_LENGTH = 200;
const SCORED_LENGTH = 64;

let estimator: ZxcvbnFactory | null = null;
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    maxLength: SCORED_LENGTH,
    l33tMaxSubstitutions: 4,
  });
  return estimator;
}

/** Words a guesser would try first for this person: their email, its parts, their name. */
export function personalWords(about: { email?: string; name?: string }): string[] {
  const words = new Set<string>(["postpath"]);
  const add = (w: string | undefined) => {
    const v = w?.trim().toLowerCase();
    if (v && v.length >= 3) words.add(v);
  };
  if (about.email) {
    const email = about.email.toLowerCase();
    const [local, domain] = email.split("@");
    add(email);
    add(local);
    add(local?.replace(/[._+-]/g, ""));
    for (const part of local?.split(/[._+-]/) ?? []) add(part);
    add(domain);
    for (const part of domain?.split(".") ?? []) add(part);
  }
  if (about.name) {
    add(about.name);
    add(about.name.replace(/\s+/g, ""));
    for (const part of about.name.split(/\s+/)) add(part);
  }
  return [...words];
}

export type PasswordVerdict = { ok: true; score: number } | { ok: false; message: string };

/** Scores a new password; when too weak, says why and what to do, in plain words. */
export function checkPassword(
  password: string,
  about: { email?: string; name?: string } = {},
): PasswordVerdict {
  if (password.length > MAX_PASSWORD_LENGTH)
    return { ok: false, message: `Use at most ${MAX_PASSWORD_LENGTH} characters.` };
  const result: ZxcvbnResult = zxcvbn().check(password, personalWords(about));
  if (result.score >= MIN_PASSWORD_SCORE) return { ok: true, score: result.score };
  const why = result.feedback.warning ?? "It would be guessed quickly.";
  const suggestions = result.feedback.suggestions.length
    ? result.feedback.suggestions
    : ["Add another word or two that are not about you."];
  return {
    ok: false,
    message: `This password is too easy to guess. ${why} ${suggestions.join(" ")} A few unrelated words together work well.`,
  };
}

/**
 * Throws BAD_REQUEST whose field error names `field` (the error formatter shows it next to that
 * field, as it does for zod errors) when the password is too weak.
 */
export function assertStrongPassword(
  password: string,
  about: { email?: string; name?: string },
  field = "password",
): void {
  const verdict = checkPassword(password, about);
  if (!verdict.ok) throw fieldError(field, verdict.message);
}

/** BAD_REQUEST naming one input field, shaped like a rejected input (the formatter lists it in `fieldErrors`). */
export function fieldError(field: string, message: string): TRPCError {
  // A ZodError made by parsing (one built with `new` is not an Error, and tRPC would wrap it).
  const parsed = z.object({ [field]: z.custom(() => false, { message }) }).safeParse({});
  return new TRPCError({ code: "BAD_REQUEST", message, cause: parsed.error });
}

/** The input shape of a new password (length only; strength is checked with the person's details). */
export const NewPassword = z
  .string()
  .min(1, "Choose a password")
  .max(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters`);
