import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env.ts";

describe("parseEnv", () => {
  it("fills documented defaults when nothing is set", () => {
    const env = parseEnv({});
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.RUN_WORKER).toBe(true);
  });

  it("names the variable and the expected form for a malformed value", () => {
    try {
      parseEnv({ DATABASE_URL: "mysql://x", PORT: "eighty" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const lines = (err as EnvError).lines;
      expect(lines).toHaveLength(2);
      expect(lines.find((l) => l.includes("DATABASE_URL"))).toMatch(/postgresql:\/\//);
      expect(lines.find((l) => l.includes("PORT"))).toMatch(/port number/);
    }
  });

  it("treats empty strings as unset", () => {
    expect(parseEnv({ DATABASE_URL: "" }).DATABASE_URL).toBeUndefined();
  });
});
