// @postpath/channels/testing — the one SMTP sink for tests: a real SMTP server (smtp-server) on a
// free 127.0.0.1 port that parses what it receives (mailparser) and keeps it in memory, or also
// writes each message as a JSON file for readers in other processes (the Playwright specs).
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import path from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { SMTPServerSession } from "smtp-server";
import { IDEMPOTENCY_HEADER } from "./providers/email.ts";

/** One message as the sink received it. Plain JSON: the same shape comes back from `readMailDir`. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM); null for the null sender `<>`. */
  from: string | null;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  /** The user that authenticated, when the sink requires auth. */
  authUser: string | null;
  /** Decoded subject ("" when there is none). */
  subject: string;
  /** The text part, decoded (mailparser derives it from the HTML when there is no text part). */
  text: string | null;
  /** The HTML part, decoded. */
  html: string | null;
  /** Top-level headers as sent: lower-case names, folded lines joined, first occurrence wins. */
  headers: Record<string, string>;
  /** The X-Postpath-Idempotency-Key header, when the provider set one. */
  idempotencyKey: string | null;
  /** The whole message as received (headers and MIME body, still encoded). */
  raw: string;
  /** Order of arrival, from 1. */
  seq: number;
  /** Date.now() when it was stored. */
  receivedAt: number;
}

export interface SmtpSinkOptions {
  /** Require AUTH with these credentials (the sink's `url` carries them). Default: no auth needed. */
  auth?: { user: string; pass: string };
  /** Also write each message to this folder as `<seq>.json` (see `readMailDir`); created if missing. */
  dir?: string;
  /** Failure injection: answer every RCPT TO with this SMTP code (e.g. 550 permanent, 451 transient). */
  rejectRecipientWith?: number;
}

export interface WaitForMailOptions {
  /** Count only the messages this accepts (default: all). */
  match?: (mail: ReceivedMail) => boolean;
  timeoutMs?: number;
}

export interface SmtpSink {
  host: string;
  port: number;
  /** `smtp://[user:pass@]127.0.0.1:<port>`, ready for the e-mail provider or SMTP_URL. */
  url: string;
  /** Messages so far, in arrival order. */
  readonly received: readonly ReceivedMail[];
  /** Resolves with the matching messages once there are at least `count`; rejects after the timeout. */
  waitFor(count: number, options?: WaitForMailOptions): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Top-level header lines → { name: value } (RFC 5322 unfolding: the line breaks go, the blanks stay). */
function headerRecord(lines: readonly { key: string; line: string }[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of lines) {
    if (key in headers) continue;
    headers[key] = line
      .slice(line.indexOf(":") + 1)
      .replace(/\r?\n(?=[ \t])/g, "")
      .trim();
  }
  return headers;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const { auth, dir, rejectRecipientWith } = options;
  if (dir) mkdirSync(dir, { recursive: true });
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();

  async function store(raw: Buffer, session: SMTPServerSession): Promise<void> {
    const parsed = await simpleParser(raw, { skipImageLinks: true });
    const headers = headerRecord(parsed.headerLines);
    const mailFrom = session.envelope.mailFrom;
    const mail: ReceivedMail = {
      from: mailFrom === false || mailFrom.address === "" ? null : mailFrom.address,
      to: session.envelope.rcptTo.map((r) => r.address),
      authUser: typeof session.user === "string" ? session.user : null,
      subject: parsed.subject ?? "",
      text: parsed.text ?? null,
      html: parsed.html || null,
      headers,
      idempotencyKey: headers[IDEMPOTENCY_HEADER.toLowerCase()] ?? null,
      raw: raw.toString("utf8"),
      seq: received.length + 1,
      receivedAt: Date.now(),
    };
    if (dir) {
      // Written whole, then renamed: a reader never sees half a file.
      const name = `${String(mail.seq).padStart(6, "0")}.json`;
      writeFileSync(path.join(dir, `.${name}.tmp`), JSON.stringify(mail));
      renameSync(path.join(dir, `.${name}.tmp`), path.join(dir, name));
    }
    received.push(mail);
    for (const wake of waiters) wake();
  }

  const server = new SMTPServer({
    secure: false,
    disabledCommands: auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(attempt, _session, callback) {
      if (auth && attempt.username === auth.user && attempt.password === auth.pass)
        callback(null, { user: auth.user });
      else callback(smtpError(535, "Invalid username or password"));
    },
    onRcptTo(_address, _session, callback) {
      if (rejectRecipientWith === undefined) return callback();
      const code = rejectRecipientWith;
      callback(smtpError(code, code >= 500 ? "Mailbox unavailable" : "Try again later"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        // Acknowledged only once stored: when the sender's send() resolves, `received` has it.
        store(Buffer.concat(chunks), session).then(
          () => callback(),
          (err: unknown) =>
            callback(smtpError(451, `sink could not store the message: ${String(err)}`)),
        );
      });
    },
  });
  // A sender that disappears mid-session (a worker SIGKILLed by a crash test) resets its
  // connection; smtp-server reports that as an "error" event, which without a listener would be an
  // uncaught exception in the test process. The sink keeps only messages it fully received.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.server.address() as AddressInfo;
  const credentials = auth
    ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@`
    : "";

  return {
    host: HOST,
    port,
    url: `smtp://${credentials}${HOST}:${port}`,
    received,
    waitFor(count, { match = () => true, timeoutMs = 30_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.filter(match);
          if (found.length < count) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          const seen = received.map((m) => `${m.to.join(",")} "${m.subject}"`).join("; ");
          reject(
            new Error(
              `SMTP sink: expected ${count} matching message(s) within ${timeoutMs} ms, got ${received.filter(match).length} (received: ${seen || "none"})`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The messages a sink started with `dir` has written so far, in arrival order (any process). */
export function readMailDir(dir: string): ReceivedMail[] {
  return readdirSync(dir)
    .filter((f) => /^\d+\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as ReceivedMail);
}

/** A TCP server that accepts connections and never says a word (no SMTP greeting): for timeouts. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
