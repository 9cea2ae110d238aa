import { describe, expect, it } from "vitest";
import { parseEnv } from "./env.ts";

describe("issue 12: account settings", () => {
  it("sign-up is off and nobody is an instance owner by env unless told", () => {
    const env = parseEnv({});
    expect(env.ALLOW_SIGNUP).toBe(false);
    expect(env.INSTANCE_OWNER_EMAILS).toEqual([]);
  });

  it("reads ALLOW_SIGNUP and a comma-separated owner list (trimmed, lower-cased)", () => {
    const env = parseEnv({
      ALLOW_SIGNUP: "true",
      INSTANCE_OWNER_EMAILS: " Owner@Example.com, ops@example.com ,",
    });
    expect(env.ALLOW_SIGNUP).toBe(true);
    expect(env.INSTANCE_OWNER_EMAILS).toEqual(["owner@example.com", "ops@example.com"]);
  });

  it("names the variable when an owner email is malformed", () => {
    expect(() => parseEnv({ INSTANCE_OWNER_EMAILS: "owner@example.com, not-an-email" })).toThrow(
      /INSTANCE_OWNER_EMAILS=.*email addresses separated by commas/,
    );
  });
});
