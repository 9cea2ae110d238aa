import { pino, type Logger } from "pino";

export type { Logger };

/** Structured logs. Secrets must never be passed in; redact the usual suspects anyway. */
export function createLogger(level: string, name = "postpath"): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        "*.password",
        "*.secret",
        "*.authToken",
        "*.apiKey",
        "*.pass",
        "config",
        "credentials",
      ],
      censor: "[redacted]",
    },
  });
}
