import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../trpc.ts";
import { Loading, When } from "./common.tsx";

const PAGE = 50;

export function AuditSection() {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<string[]>([]);
  const before = cursors.at(-1);
  const audit = useQuery(
    trpc.audit.list.queryOptions({ limit: PAGE, ...(before ? { before } : {}) }),
  );
  return (
    <>
      <h2>Audit log</h2>
      <Loading query={audit} what="the audit log">
        {(list) => (
          <>
            <table className="admin__table">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Who</th>
                  <th>Action</th>
                  <th>On</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <When at={e.at} />
                    </td>
                    <td>{e.actor ? e.actor.email : <span className="muted">system</span>}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>{e.targetType}</td>
                    <td className="muted">{JSON.stringify(e.detail)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div className="row-actions">
              <button
                type="button"
                disabled={cursors.length === 0}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                Newer
              </button>
              <button
                type="button"
                disabled={list.length < PAGE}
                onClick={() => setCursors([...cursors, list.at(-1)?.id ?? ""])}
              >
                Older
              </button>
            </div>
          </>
        )}
      </Loading>
    </>
  );
}
