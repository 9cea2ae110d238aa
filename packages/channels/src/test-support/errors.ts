import { expect } from "vitest";
import { ProviderError } from "../types.ts";

/** Awaits a promise that must reject with a ProviderError, and returns that error. */
export async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
