import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc.ts";
import { Loading, MutationError, When } from "./common.tsx";

/** What each status means, in a marketer's words. */
const STATUS_LABEL: Record<string, string> = {
  DEAD: "Gave up after retries",
  FAILED: "Refused",
  UNCERTAIN: "May have been delivered",
};

export function DeadLettersSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dead = useQuery(trpc.admin.deadLetters.queryOptions());
  const refresh = { onSuccess: () => queryClient.invalidateQueries(trpc.admin.pathFilter()) };
  const replay = useMutation(trpc.admin.replay.mutationOptions(refresh));
  const dismiss = useMutation(trpc.admin.dismiss.mutationOptions(refresh));
  const busy = replay.isPending || dismiss.isPending;
  return (
    <>
      <h2>Dead letters</h2>
      <p className="muted">
        Messages that failed for good, and emails that may or may not have arrived because sending
        was interrupted (they are never sent twice on their own). Send again uses the same
        idempotency key: as the message was, or with the step&apos;s current template (after you
        fixed it and published). The journey run is not rewound; earlier failures stay in the
        history. Dismiss takes a message off this list without sending it.
      </p>
      <MutationError error={replay.error ?? dismiss.error} />
      <Loading query={dead} what="dead letters">
        {({ items: list }) =>
          list.length === 0 ? (
            <p>No failed messages.</p>
          ) : (
            <table className="admin__table">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Journey</th>
                  <th>Customer</th>
                  <th>Channel</th>
                  <th>Recipient</th>
                  <th>What happened</th>
                  <th>Error</th>
                  <th>Attempts</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.messageId}>
                    <td>
                      <When at={m.createdAt} />
                    </td>
                    <td>{m.journeyName}</td>
                    <td>{m.customer}</td>
                    <td>{m.channel}</td>
                    <td>{m.recipient ?? "—"}</td>
                    <td>{STATUS_LABEL[m.status] ?? m.status}</td>
                    <td>
                      {m.error ?? ""}
                      {(m.history ?? []).map((h, i) => (
                        <div key={i} className="muted">
                          Earlier ({h.action === "replay" ? "before a resend" : "dismissed"}):{" "}
                          {h.error ?? STATUS_LABEL[h.status] ?? h.status}
                        </div>
                      ))}
                    </td>
                    <td>{m.attempts}</td>
                    <td>
                      {m.rendered !== false ? (
                        <button
                          type="button"
                          disabled={busy}
                          onClick={() => replay.mutate({ id: m.messageId, render: "stored" })}
                        >
                          Replay
                        </button>
                      ) : null}
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() => replay.mutate({ id: m.messageId, render: "current" })}
                      >
                        Replay with current template
                      </button>
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() => dismiss.mutate({ id: m.messageId })}
                      >
                        Dismiss
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loading>
    </>
  );
}
