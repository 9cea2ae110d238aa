// Autosave: every document change is saved shortly after, naming the revision it was based on.
// If another tab (or person) saved in between, the server refuses with CONFLICT and nothing is
// overwritten: the editor says so and offers to load the latest version.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage, trpcErrorCode, useTRPC, useTRPCClient } from "../trpc.ts";
import { toDraft, useEditorStore } from "./store.ts";

export type SaveState = "saved" | "dirty" | "saving" | "conflict" | "error";

const DEBOUNCE_MS = 700;

export function useAutosave(journeyId: string, initialRevision: number, enabled: boolean) {
  const client = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const docRev = useEditorStore((s) => s.docRev);
  const [state, setState] = useState<SaveState>("saved");
  const [message, setMessage] = useState<string | null>(null);
  const [revision, setRevision] = useState(initialRevision);
  const revisionRef = useRef(initialRevision);
  const savedRev = useRef(0);
  const inFlight = useRef<Promise<void> | null>(null);
  const blocked = useRef(false);

  const flush = useCallback(async (): Promise<boolean> => {
    while (inFlight.current) await inFlight.current;
    const store = useEditorStore.getState();
    if (blocked.current) return false;
    if (store.docRev === savedRev.current) return true;
    const rev = store.docRev;
    setState("saving");
    const attempt = (async () => {
      try {
        const result = await client.journeys.saveDraft.mutate({
          id: journeyId,
          draft: toDraft(store),
          revision: revisionRef.current,
        });
        revisionRef.current = result.revision;
        setRevision(result.revision);
        // Cached copies of this journey are out of date now: the editor, opened again, fetches
        // the saved draft (marked stale here, not refetched on every save), and the list shows
        // the new "last edited".
        void queryClient.invalidateQueries({
          queryKey: trpc.journeys.get.queryKey({ id: journeyId }),
          refetchType: "none",
        });
        void queryClient.invalidateQueries({ queryKey: trpc.journeys.list.pathKey() });
        savedRev.current = rev;
        setMessage(null);
        setState(useEditorStore.getState().docRev === rev ? "saved" : "dirty");
      } catch (e) {
        const err = e as Error & { data?: unknown };
        if (trpcErrorCode(e) === "CONFLICT") {
          blocked.current = true;
          setState("conflict");
        } else {
          setState("error");
        }
        setMessage(errorMessage(err));
      }
    })();
    inFlight.current = attempt;
    await attempt;
    inFlight.current = null;
    return !blocked.current && useEditorStore.getState().docRev === savedRev.current;
  }, [client, journeyId, queryClient, trpc]);

  useEffect(() => {
    if (!enabled || blocked.current) return;
    if (docRev === 0) {
      // The shared editor store was (re)loaded with a saved draft: nothing to save, and counting
      // starts again (a stale savedRev would otherwise swallow the edit that reaches its value).
      savedRev.current = 0;
      if (!inFlight.current) setState("saved");
      return;
    }
    if (docRev === savedRev.current) return;
    setState("dirty");
    const timer = setTimeout(() => void flush(), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [docRev, enabled, flush]);

  // Leaving with unsaved changes: let the browser ask.
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (useEditorStore.getState().docRev !== savedRev.current) event.preventDefault();
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, []);

  return { state, message, revision, flush };
}
