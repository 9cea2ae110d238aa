import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0"], { message: 'expected "true" or "false"' })
  .transform((v) => v === "true" || v === "1");

const url = (protocols: string[], example: string) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL like ${example}` },
  );

const hostList = (v: string) =>
  v
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");

/** `host:port` or `[v6]:port` (REDIS_CLUSTER_NODES). */
const CLUSTER_NODE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

/** Every environment variable Postpath reads, with its default. README lists the same. */
export const Env = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  DATABASE_URL: url(
    ["postgres:", "postgresql:"],
    "postgresql://user@127.0.0.1:5432/postpath",
  ).optional(),
  /** issue 15: a read replica of DATABASE_URL for read-only figures (analytics, list counts). */
  DATABASE_REPLICA_URL: url(
    ["postgres:", "postgresql:"],
    "postgresql://user@replica.internal:5432/postpath",
  ).optional(),
  POSTPATH_DATA_DIR: z.string().min(1).default(".postpath"),
  REDIS_URL: url(["redis:", "rediss:"], "redis://127.0.0.1:6379").default("redis://127.0.0.1:6379"),
  REDIS_AUTOSTART: bool.default(true),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce
    .number({ message: "expected a port number" })
    .int()
    .min(0)
    .max(65535)
    .default(3000),
  TRUST_PROXY: bool.default(false),
  /** issue 14/15: HTTP processes on HOST:PORT (node:cluster; the first process supervises them,
   * runs the journey workers and migrates). More than 1 needs DATABASE_URL. */
  HTTP_PROCESSES: z.coerce
    .number({ message: "expected a whole number of processes (1 to 64)" })
    .int({ message: "expected a whole number of processes (1 to 64)" })
    .min(1, { message: "expected a whole number of processes (1 to 64)" })
    .max(64, { message: "expected a whole number of processes (1 to 64)" })
    .default(1),
  PUBLIC_URL: url(["http:", "https:"], "https://postpath.example.com").optional(),
  SMTP_URL: url(["smtp:", "smtps:"], "smtp://user:pass@127.0.0.1:1025").optional(),
  EMAIL_FROM: z.string().min(3).default("Postpath <no-reply@postpath.local>"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  RUN_WORKER: bool.default(true),
  WORKER_CONCURRENCY: z.coerce
    .number({ message: "expected a whole number" })
    .int()
    .min(1)
    .max(1000)
    .default(50),
  /** Run jobs in flight per process: they are batched into shared reads and commits, so more of
   * them make larger batches (bench/README.md: 200 runs 63 % of raw, 50 runs 55 %). */
  RUN_CONCURRENCY: z.coerce
    .number({ message: "expected a whole number" })
    .int()
    .min(1)
    .max(2000)
    .default(200),
  /** Days ingested events are kept; the sweeper deletes older ones (0: keep them forever). */
  EVENT_RETENTION_DAYS: z.coerce
    .number({ message: "expected a whole number of days" })
    .int()
    .min(0)
    .max(36_500)
    .default(90),
  /** issue 15: days run traces are kept; the sweeper drops whole months older than that (0: keep
   * them forever). */
  TRACE_RETENTION_DAYS: z.coerce
    .number({ message: "expected a whole number of days" })
    .int()
    .min(0)
    .max(36_500)
    .default(0),
  /** issue 15: days messages are kept; the sweeper drops whole months older than that, never one
   * holding a message still to send or a dead letter nobody dismissed (0: keep them forever). */
  MESSAGE_RETENTION_DAYS: z.coerce
    .number({ message: "expected a whole number of days" })
    .int()
    .min(0)
    .max(36_500)
    .default(0),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9:_-]+$/i, "expected letters, digits, ':' '_' or '-'")
    .default("postpath"),
  /** issue 15: the nodes of a Redis Cluster, comma-separated host:port (a few suffice; the rest
   * are discovered). When set, the queues run on the cluster and REDIS_URL is not used. */
  REDIS_CLUSTER_NODES: z
    .string()
    .refine((v) => hostList(v).length > 0 && hostList(v).every((n) => CLUSTER_NODE.test(n)), {
      message: "expected host:port pairs, comma-separated (e.g. redis-1:6379,redis-2:6379)",
    })
    .transform((v) =>
      hostList(v).map((n) => {
        const at = n.lastIndexOf(":");
        return { host: n.slice(0, at).replace(/^\[(.*)\]$/, "$1"), port: Number(n.slice(at + 1)) };
      }),
    )
    .optional(),
  /** issue 15: shards per hot queue (events, runs, sends, timers), each in its own hash slot so a
   * Redis Cluster spreads them over its masters. 1 keeps one queue each (today's names). */
  QUEUE_SHARDS: z.coerce
    .number({ message: "expected a whole number" })
    .int()
    .min(1)
    .max(256)
    .default(1),
  SEED_DEMO: bool.default(true),
  /** issue 12: anyone may create a workspace (becoming its first admin) from the sign-in page. */
  ALLOW_SIGNUP: bool.default(false),
  /** issue 12: comma-separated emails of people who may create workspaces (instance owners). */
  INSTANCE_OWNER_EMAILS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine((emails) => emails.every((e) => z.email().safeParse(e).success), {
      message: "expected email addresses separated by commas",
    })
    .default([]),
  WEB_DIST: z.string().optional(),
  /** Master key(s) wrapping channel-credential data keys: base64 of 32 bytes; comma-separated, current first (admin issue). */
  POSTPATH_MASTER_KEY: z
    .string()
    .regex(
      /^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/,
      "expected base64 of 32 random bytes (openssl rand -base64 32), comma-separated, current first",
    )
    .optional(),
  /** File holding the master key(s), one base64 key per line, current first (admin issue). */
  POSTPATH_MASTER_KEY_FILE: z.string().min(1).optional(),
  /** Private hosts that webhook/SMS/push/Slack requests may reach anyway: host names, IP
   * addresses or CIDR ranges, comma-separated. Everything else must resolve to public addresses. */
  OUTBOUND_ALLOW_HOSTS: z
    .string()
    .refine((v) => hostList(v).every((h) => /^\[?[A-Za-z0-9._:-]+\]?(\/\d{1,3})?$/.test(h)), {
      message:
        "expected host names, IP addresses or CIDR ranges, comma-separated (e.g. 10.0.0.5,hooks.internal,10.1.0.0/16)",
    })
    .transform(hostList)
    .default([]),
});
export type Env = z.infer<typeof Env>;

export class EnvError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "EnvError";
  }
}

/** Parse the environment once; throws EnvError whose lines each name one variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  // Treat empty strings as unset, as shells and .env files commonly produce them.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ""),
  );
  const result = Env.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join(".");
    return `Invalid environment variable ${name}=${JSON.stringify(source[name] ?? "")}: ${issue.message}`;
  });
  throw new EnvError(lines);
}

/** For entry points: parse or print one line per bad variable and exit 1 (no stack trace). */
export function loadEnvOrExit(source: Record<string, string | undefined> = process.env): Env {
  try {
    return parseEnv(source);
  } catch (err) {
    if (err instanceof EnvError) {
      for (const line of err.lines) process.stderr.write(`${line}\n`);
      process.exit(1);
    }
    throw err;
  }
}
