// A fake tRPC server at the HTTP boundary for jsdom tests: `fetch` answers batched tRPC calls
// (GET queries, POST mutations) from in-memory handlers, in tRPC's own wire format, so the app's
// real client, links and error handling run. Throw `ApiError` from a handler to answer an error.
import { vi } from "vitest";

const HTTP_STATUS = {
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
} as const;
const JSON_RPC_CODE = {
  BAD_REQUEST: -32600,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  CONFLICT: -32009,
} as const;

export type ApiErrorCode = keyof typeof HTTP_STATUS;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type Call = { path: string; input: unknown };
export type Handlers = Record<string, (input: unknown) => unknown>;

/** Stubs `fetch` with the handlers; returns the calls made, in order (path and input). */
export function stubTrpc(handlers: Handlers): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", (url: string | URL | Request, init?: RequestInit) => {
    const u = new URL(url instanceof Request ? url.url : String(url));
    const paths = decodeURIComponent(u.pathname.replace(/^\/trpc\//, "")).split(",");
    const inputs = JSON.parse(
      init?.method === "POST" ? (init.body as string) : (u.searchParams.get("input") ?? "{}"),
    ) as Record<string, unknown>;
    const items = paths.map((path, i) => {
      const input = inputs[String(i)];
      calls.push({ path, input });
      try {
        const handler = handlers[path];
        if (!handler) throw new ApiError("NOT_FOUND", `No such procedure: ${path}`);
        return { result: { data: handler(input) ?? null } };
      } catch (e) {
        const err =
          e instanceof ApiError
            ? e
            : new ApiError("BAD_REQUEST", e instanceof Error ? e.message : String(e));
        return {
          error: {
            message: err.message,
            code: JSON_RPC_CODE[err.code],
            data: { code: err.code, httpStatus: HTTP_STATUS[err.code], path },
          },
        };
      }
    });
    return Promise.resolve(
      new Response(JSON.stringify(items), {
        status: 200,
        headers: { "content-type": "application/json" },
      }),
    );
  });
  return calls;
}
