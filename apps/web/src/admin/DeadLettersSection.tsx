import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc.ts";
import { Loading, MutationError, When } from "./common.tsx";

export function DeadLettersSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dead = useQuery(trpc.admin.deadLetters.queryOptions());
  const replay = useMutation(
    trpc.admin.replay.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.admin.pathFilter()),
    }),
  );
  return (
    <>
      <h2>Dead letters</h2>
      <p className="muted">
        Messages that failed for good (newest 50). Replay sends one again with the same idempotency
        key; the journey run is not rewound.
      </p>
      <MutationError error={replay.error} />
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
                    <td>{m.error ?? ""}</td>
                    <td>{m.attempts}</td>
                    <td>
                      <button
                        type="button"
                        disabled={replay.isPending}
                        onClick={() => replay.mutate({ id: m.messageId })}
                      >
                        Replay
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
