// issue 14: a page's draft is saved shortly after each change (and at once by "Save"), naming the
// revision it was based on. If someone else saved in between, the server refuses with CONFLICT and
// nothing is overwritten: the editor says so and offers to load the latest version.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage, trpcErrorCode, useTRPC, useTRPCClient } from "../trpc.ts";

export type PageSaveState = "saved" | "dirty" | "saving" | "conflict" | "error";

const DEBOUNCE_MS = 800;

/** A document as the server stores it; key order and absent-vs-empty zones do not count. */
export function documentKey(doc: unknown): string {
  return JSON.stringify(doc, (_key, value: unknown) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([k, v]) => v !== undefined && !(k === "zones" && isEmptyObject(v)))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries);
    }
    return value;
  });
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && Object.keys(v).length === 0;
}

export function usePageAutosave(
  pageId: string,
  initial: { revision: number; draft: unknown },
  enabled: boolean,
) {
  const client = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<PageSaveState>("saved");
  const [message, setMessage] = useState<string | null>(null);
  const [revision, setRevision] = useState(initial.revision);
  const revisionRef = useRef(initial.revision);
  // What the server holds (as of this editor's last load or save) and what the editor shows.
  const savedKey = useRef<string | null>(null);
  const latest = useRef<{ doc: unknown; key: string } | null>(null);
  const inFlight = useRef<Promise<void> | null>(null);
  const blocked = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  if (savedKey.current === null) savedKey.current = documentKey(initial.draft);
  const initialDraft = useRef(initial.draft);
  // A new name waiting to be saved, and the name the server has (after this editor's renames).
  const pendingName = useRef<string | null>(null);
  const [savedName, setSavedName] = useState<string | null>(null);

  const flush = useCallback(async (): Promise<boolean> => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    while (inFlight.current) await inFlight.current;
    if (blocked.current) return false;
    // A rename alone is saved with the document as the server has it (or as the editor shows it).
    const doc = latest.current ?? { doc: initialDraft.current, key: savedKey.current ?? "" };
    const name = pendingName.current;
    if (doc.key === savedKey.current && name === null) return true;
    setState("saving");
    const attempt = (async () => {
      try {
        const result = await client.pages.save.mutate({
          id: pageId,
          revision: revisionRef.current,
          draft: doc.doc as Record<string, unknown>,
          ...(name === null ? {} : { name }),
        });
        revisionRef.current = result.revision;
        setRevision(result.revision);
        savedKey.current = doc.key;
        if (name !== null && pendingName.current === name) pendingName.current = null;
        if (name !== null) setSavedName(name);
        setMessage(null);
        setState(
          (latest.current?.key ?? doc.key) === doc.key && pendingName.current === null
            ? "saved"
            : "dirty",
        );
        // Cached copies are out of date: the editor, opened again, fetches the saved draft
        // (marked stale, not refetched on every save), and the list shows the new "last edited".
        void queryClient.invalidateQueries({
          queryKey: trpc.pages.get.queryKey({ id: pageId }),
          refetchType: "none",
        });
        void queryClient.invalidateQueries({ queryKey: trpc.pages.list.queryKey() });
      } catch (e) {
        if (trpcErrorCode(e) === "CONFLICT") {
          blocked.current = true;
          setState("conflict");
          setMessage(null);
        } else {
          // A refused rename is not retried with the next edit; the message says why.
          if (name !== null && pendingName.current === name) pendingName.current = null;
          setState("error");
          setMessage(errorMessage(e as Error & { data?: unknown }));
        }
      }
    })();
    inFlight.current = attempt;
    await attempt;
    inFlight.current = null;
    return (
      !blocked.current &&
      (latest.current?.key ?? savedKey.current) === savedKey.current &&
      pendingName.current === null
    );
  }, [client, pageId, queryClient, trpc]);

  /** The editor's document changed (Puck's onChange). */
  const change = useCallback(
    (doc: unknown) => {
      if (!enabled || blocked.current) return;
      const key = documentKey(doc);
      latest.current = { doc, key };
      if (key === savedKey.current) {
        if (!inFlight.current) setState((s) => (s === "dirty" ? "saved" : s));
        return;
      }
      setState((s) => (s === "saving" ? s : "dirty"));
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => void flush(), DEBOUNCE_MS);
    },
    [enabled, flush],
  );

  /** Renames the page: saved at once, with the document. */
  const rename = useCallback(
    async (name: string): Promise<boolean> => {
      if (!enabled || blocked.current) return false;
      pendingName.current = name;
      return flush();
    },
    [enabled, flush],
  );

  // Leaving with unsaved changes: let the browser ask. Leaving the editor inside the app saves them.
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (latest.current && latest.current.key !== savedKey.current) event.preventDefault();
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      if (timer.current) void flush();
    };
  }, [flush]);

  return { state, message, revision, savedName, change, flush, rename };
}
