import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../trpc.ts";
import { Loading, MutationError, When } from "./common.tsx";

export function ApiKeysSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries(trpc.apiKeys.pathFilter());
  const create = useMutation(trpc.apiKeys.create.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions({ onSuccess: refresh }));
  const [name, setName] = useState("");
  const [perMinute, setPerMinute] = useState("6000");
  return (
    <>
      <h2>API keys (ingest write keys)</h2>
      <p className="muted">
        Use a key as the Segment write key: HTTP Basic user name for /v1/track, /v1/identify,
        /v1/page and /v1/batch.
      </p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(
            { name, rateLimitPerMinute: Number(perMinute) },
            { onSuccess: () => setName("") },
          );
        }}
      >
        <label htmlFor="api-key-name">Name</label>
        <input id="api-key-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="api-key-rate">Requests per minute</label>
        <input
          id="api-key-rate"
          type="number"
          min={1}
          required
          value={perMinute}
          onChange={(e) => setPerMinute(e.target.value)}
        />
        <button type="submit" className="primary" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <MutationError error={create.error ?? revoke.error} />
      {create.data ? (
        <p className="admin__secret" role="status">
          Copy the key for {create.data.key.name} now, it is not shown again:{" "}
          <code data-testid="new-api-key">{create.data.secret}</code>
        </p>
      ) : null}
      <Loading query={keys} what="API keys">
        {(list) => (
          <table className="admin__table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Per minute</th>
                <th>Created</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.rateLimitPerMinute}</td>
                  <td>
                    <When at={k.createdAt} />
                  </td>
                  <td>
                    <When at={k.lastUsedAt} />
                  </td>
                  <td>
                    {k.revokedAt ? (
                      <span className="muted">revoked</span>
                    ) : (
                      <button
                        type="button"
                        disabled={revoke.isPending}
                        onClick={() => revoke.mutate({ id: k.id })}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </>
  );
}
