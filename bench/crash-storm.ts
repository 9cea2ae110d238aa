// Crash storm (issue 13): N customers through purchase → email → wait 3 s → webhook → SMS, worker
// processes (the engine's own worker-process, the same startWorkers() as apps/worker) SIGKILLed
// every few seconds and restarted, real SMTP and HTTP receivers. Prints per channel: delivered,
// lost, same-key redeliveries, uncertain, and the drain time after the last kill.
//   pnpm bench crash-storm [--customers 500] [--workers 3] [--storm-s 60] [--kill-min-ms 3000] [--kill-max-ms 6000]
import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { track } from "@postpath/engine";
import { arg, createCustomers, fmt, openBench, publish } from "./_engine.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const ENGINE_DIR = path.join(here, "..", "packages", "engine");
const WORKER = path.join(ENGINE_DIR, "src", "testing", "worker-process.ts");

/** Deliveries per idempotency key, per channel. */
type Tally = Map<string, number>;

function count(t: Tally, key: string | null) {
  if (key) t.set(key, (t.get(key) ?? 0) + 1);
}

/**
 * A minimal real SMTP server (EHLO/MAIL/RCPT/DATA/RSET/NOOP/QUIT, no TLS, no auth) that answers
 * 250 to a message only once it has stored its idempotency header: the mailbox has it.
 */
async function smtpSink(tally: Tally) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buf = "";
    let data = false;
    socket.write("220 sink ESMTP\r\n");
    socket.on("data", (chunk) => {
      buf += chunk.toString("latin1");
      for (;;) {
        if (data) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          const message = buf.slice(0, end);
          buf = buf.slice(end + 5);
          data = false;
          count(tally, /^x-postpath-idempotency-key:\s*(\S+)/im.exec(message)?.[1] ?? null);
          socket.write("250 2.0.0 queued\r\n");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") socket.write("250-sink\r\n250 8BITMIME\r\n");
        else if (verb === "HELO") socket.write("250 sink\r\n");
        else if (verb === "DATA") {
          data = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") {
          socket.end("221 bye\r\n");
          return;
        } else socket.write("250 ok\r\n");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Webhook (Standard Webhooks `webhook-id`) and Twilio-shaped SMS receiver. */
async function httpSink(webhooks: Tally, sms: Tally) {
  let sid = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url?.startsWith("/hook")) {
        count(webhooks, (req.headers["webhook-id"] as string | undefined) ?? null);
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      } else {
        count(sms, (req.headers["i-twilio-idempotency-token"] as string | undefined) ?? null);
        res
          .writeHead(201, { "content-type": "application/json" })
          .end(JSON.stringify({ sid: `SM${++sid}`, status: "queued" }));
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Reads of the benchmark's own bookkeeping, retried when the shared machine's database is slow. */
async function patiently<T>(fn: () => Promise<T>): Promise<T> {
  for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await fn();
    } catch {
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export default async function crashStorm(args: string[]) {
  const customers = arg(args, "customers", 500);
  const workerCount = arg(args, "workers", 3);
  const stormMs = arg(args, "storm-s", 60) * 1000;
  const killMin = arg(args, "kill-min-ms", 3000);
  const killMax = arg(args, "kill-max-ms", 6000);
  const env = await openBench();
  const tallies = { email: new Map(), webhook: new Map(), sms: new Map() } as Record<
    "email" | "webhook" | "sms",
    Tally
  >;
  const smtp = await smtpSink(tallies.email);
  const http = await httpSink(tallies.webhook, tallies.sms);
  const children = new Set<ChildProcess>();
  try {
    const { journeyId } = await publish(env, [
      { id: "t", type: "trigger.event", data: { event: "purchase" }, next: "email" },
      {
        id: "email",
        type: "action.email",
        data: { subject: "Thanks, {{ customer.first_name }}", body: "Your order is on its way." },
        next: "wait",
      },
      { id: "wait", type: "wait.duration", data: { amount: 3, unit: "seconds" }, next: "hook" },
      {
        id: "hook",
        type: "action.webhook",
        data: { url: `${http.url}/hook`, body: '{"c":"{{ customer.externalId }}"}' },
        next: "sms",
      },
      { id: "sms", type: "action.sms", data: { body: "Thanks {{ first_name }}!" }, next: "x" },
      { id: "x", type: "flow.exit" },
    ]);
    // u1…uN go through the storm; u(N+1)…u(2N) first go through the same journey on the same
    // workers without kills: the control that says how fast this machine drains a backlog now.
    await createCustomers(env, 2 * customers);
    await env.db.prisma
      .$executeRaw`UPDATE "Customer" SET phone = '+1555' || substr(id, 2) WHERE "workspaceId" = ${env.workspaceId}`;

    const config = {
      databaseUrl: env.db.url,
      redisUrl: env.redisUrl,
      prefix: env.prefix,
      concurrency: 25,
      lockDurationMs: 4000,
      stalledIntervalMs: 2000,
      sweepEveryMs: 5000,
      sweepGraceMs: 20_000,
      smtpUrl: smtp.url,
      smsUrl: http.url,
    };
    const spawnWorker = () => {
      const child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(config)], {
        cwd: ENGINE_DIR,
        stdio: ["ignore", "ignore", "inherit"],
      });
      children.add(child);
      child.on("exit", () => children.delete(child));
      return child;
    };
    for (let i = 0; i < workerCount; i++) spawnWorker();

    // As a Segment client does: a failed call (a busy database) is sent again, same messageId.
    const sendPurchase = async (userId: string, messageId: string) => {
      for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
        try {
          return await track(env.ctx, env.workspaceId, { userId, event: "purchase", messageId });
        } catch {
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    };
    const ingestRange = async (from: number, to: number) => {
      for (let i = from; i <= to; i += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, to - i + 1) }, (_, k) =>
            sendPurchase(`u${i + k}`, `p-${i + k}`),
          ),
        );
    };
    const completed = () =>
      patiently(() =>
        env.db.prisma.journeyRun.count({ where: { journeyId, status: "COMPLETED" } }),
      );

    // Control: the same number of customers, no kills.
    const controlStarted = Date.now();
    await ingestRange(customers + 1, 2 * customers);
    while ((await completed()) < customers) await new Promise((r) => setTimeout(r, 250));
    const controlRate = customers / ((Date.now() - controlStarted) / 1000);
    console.log(
      `control (no kills): ${fmt(customers)} runs in ${fmt((Date.now() - controlStarted) / 1000, 1)} s = ${fmt(controlRate, 1)} runs/s`,
    );

    const started = Date.now();
    const ingest = ingestRange(1, customers);
    const finished = async () => (await completed()) - customers;
    let kills = 0;
    let inFlightAtKills = 0;
    let lastKill = Date.now();
    let backlogAtLastKill = 0;
    while (Date.now() - started < stormMs) {
      await new Promise((r) => setTimeout(r, killMin + Math.random() * (killMax - killMin)));
      // A kill after every run completed would measure nothing: the drain counts from the last
      // kill that hit work still in progress.
      if ((await finished()) === customers) break;
      // Messages claimed for a provider call right now (all processes): an upper bound on what
      // this kill can leave uncertain.
      inFlightAtKills += await patiently(() =>
        env.db.prisma.message.count({ where: { status: "SENDING" } }),
      );
      const list = [...children];
      const victim = list[Math.floor(Math.random() * list.length)];
      if (victim) {
        victim.kill("SIGKILL");
        kills++;
        lastKill = Date.now();
        backlogAtLastKill = customers - (await finished());
      }
      spawnWorker();
    }
    await ingest;
    console.log(
      `crash storm: ${fmt(customers)} customers, ${workerCount} worker processes, ${kills} SIGKILLs over ${fmt((lastKill - started) / 1000, 1)} s`,
    );
    // Drain: every run finished and no message left to send (or being sent).
    let drained = 0;
    let reported = Date.now();
    for (;;) {
      const [done, open] = await Promise.all([
        finished(),
        patiently(() =>
          env.db.prisma.message.count({ where: { status: { in: ["PENDING", "SENDING"] } } }),
        ),
      ]);
      if (done === customers && open === 0) {
        drained = Date.now();
        break;
      }
      if (Date.now() - reported > 15_000) {
        // Where the drain goes: a steady climb is backlog (a busy machine); steps are recovery.
        reported = Date.now();
        const [runs] = await patiently(
          () => env.db.prisma.$queryRaw<{ active: bigint; waiting: bigint; overdue: bigint }[]>`
            SELECT count(*) FILTER (WHERE status = 'ACTIVE') AS active,
                   count(*) FILTER (WHERE status = 'WAITING') AS waiting,
                   count(*) FILTER (WHERE status = 'WAITING' AND "waitingUntil" < now()) AS overdue
            FROM "JourneyRun" WHERE "journeyId" = ${journeyId}`,
        );
        console.log(
          `  +${fmt((reported - lastKill) / 1000)} s: ${done} runs completed, ${runs?.active ?? 0} active, ${runs?.waiting ?? 0} waiting (${runs?.overdue ?? 0} overdue), ${open} messages to send`,
        );
      }
      if (Date.now() - lastKill > 600_000) {
        console.log(
          `  not drained 10 min after the last kill: ${done} runs completed, ${open} messages open`,
        );
        drained = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 2000)); // stragglers show up before counting
    const rows = await env.db.prisma.message.findMany({
      select: { channel: true, idempotencyKey: true, status: true },
    });
    // A backlog takes time to work off even without a crash: what the control's pace predicts for
    // the runs still open at the last kill is not recovery; the rest is.
    const drainS = (drained - lastKill) / 1000;
    const backlogS = backlogAtLastKill / controlRate;
    console.log(
      `  drained ${fmt(drainS, 1)} s after the last kill; ${fmt(backlogAtLastKill)} runs were open then, ${fmt(backlogS, 1)} s of work at the control's pace → recovery cost ${fmt(Math.max(0, drainS - backlogS), 1)} s; messages claimed (SENDING) at the kills: ${inFlightAtKills}`,
    );
    console.log(
      "  channel   policy         outbox  delivered  lost  same-key redeliveries  uncertain (delivered / not)",
    );
    for (const [channel, policy] of [
      ["email", "at most once"],
      ["webhook", "at least once"],
      ["sms", "at least once"],
    ] as const) {
      const mine = rows.filter((r) => r.channel === channel);
      const tally = tallies[channel];
      const delivered = mine.filter((r) => tally.has(r.idempotencyKey)).length;
      const uncertain = mine.filter((r) => r.status === "UNCERTAIN");
      const uncertainDelivered = uncertain.filter((r) => tally.has(r.idempotencyKey)).length;
      const lost = mine.filter(
        (r) => r.status !== "UNCERTAIN" && !tally.has(r.idempotencyKey),
      ).length;
      const redeliveries = [...tally.values()].reduce((s, n) => s + n - 1, 0);
      const stranger = [...tally.keys()].filter(
        (k) => !mine.some((r) => r.idempotencyKey === k),
      ).length;
      console.log(
        `  ${channel.padEnd(8)}  ${policy.padEnd(13)}  ${String(mine.length).padStart(6)}  ${String(delivered).padStart(9)}  ${String(lost).padStart(4)}  ${String(redeliveries).padStart(21)}  ${String(uncertain.length).padStart(9)} (${uncertainDelivered} / ${uncertain.length - uncertainDelivered})${stranger ? `  ${stranger} keys not in the outbox!` : ""}`,
      );
    }
    const statuses = await env.db.prisma.message.groupBy({
      by: ["status"],
      _count: { _all: true },
    });
    console.log(
      `  outbox statuses: ${statuses.map((s) => `${s.status} ${s._count._all}`).join(", ")}`,
    );
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await smtp.close();
    await http.close();
    await env.close();
  }
}
