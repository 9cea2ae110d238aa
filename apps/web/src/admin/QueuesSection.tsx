import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc.ts";
import { Loading } from "./common.tsx";

export function QueuesSection() {
  const trpc = useTRPC();
  const queues = useQuery({ ...trpc.admin.queues.queryOptions(), refetchInterval: 5000 });
  return (
    <>
      <h2>Queues</h2>
      <p className="muted">Jobs across this installation, refreshed every 5 s.</p>
      <Loading query={queues} what="queues">
        {(list) => (
          <table className="admin__table">
            <thead>
              <tr>
                <th>Queue</th>
                <th>Waiting</th>
                <th>Delayed</th>
                <th>Active</th>
                <th>Failed</th>
              </tr>
            </thead>
            <tbody>
              {list.map((q) => (
                <tr key={q.name}>
                  <td>{q.name}</td>
                  <td>{q.waiting}</td>
                  <td>{q.delayed}</td>
                  <td>{q.active}</td>
                  <td>{q.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loading>
    </>
  );
}
