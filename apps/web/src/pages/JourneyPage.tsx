import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { JourneyDetail } from "../api/contract.ts";
import { useOperateClient } from "../api/operate.ts";
import { useAutosave } from "../canvas/autosave.ts";
import type { SaveState } from "../canvas/autosave.ts";
import { useWorkspaceCatalog } from "../canvas/catalog.ts";
import { JourneyCanvas, onEditorShortcut } from "../canvas/JourneyCanvas.tsx";
import { useTestRunStore } from "../canvas/panels/testRunStore.ts";
import { VALIDATE_LATER_OVER, useEditorStore } from "../canvas/store.ts";
import { formatDateTime } from "../format.ts";
import { hrefs } from "../routing.ts";
import { trpcErrorCode, useTRPC, useTRPCClient } from "../trpc.ts";
import type * as EditorParts from "./editorParts.ts";
import { StatusBadge } from "./StatusBadge.tsx";

// issue 18 item 5: the canvas is drawn without the journey language (canvas/language.ts); the
// parts of the editor that need it (palette, panels, publish dialog: editorParts.ts) come as one
// chunk, asked for once the canvas has been painted, with a light placeholder meanwhile. This
// module imports no value from @postpath/journey, directly or not (issue-018-editor-parts.test.ts).
type Parts = typeof EditorParts;
let partsLoaded: Parts | null = null;
let partsLoading: Promise<Parts> | null = null;
function loadParts(): Promise<Parts> {
  partsLoading ??= import("./editorParts.ts").then(
    (m) => (partsLoaded = m),
    (error: unknown) => {
      partsLoading = null; // asked again by the next editor
      throw error;
    },
  );
  return partsLoading;
}

/**
 * The editor's parts once their chunk has loaded; null until then. A big journey's canvas is
 * drawn first (far out, without the language): its parts are asked for once it has been painted
 * (the first frame after the store loaded the draft), so neither their chunk nor the language
 * delays that draw or competes with it for the main thread. A small journey's canvas needs the
 * language to draw at all: its parts are asked for at once, and the editor waits for them
 * (it appears whole). Once loaded, every later editor has them at once.
 */
function useEditorParts(draftKey: string, big: boolean): { parts: Parts | null; failed: boolean } {
  const painted = useEditorStore((s) => s.loadedKey === draftKey);
  const [parts, setParts] = useState<Parts | null>(partsLoaded);
  const [failed, setFailed] = useState(false);
  const ask = !big || painted;
  useEffect(() => {
    if (!ask || parts) return;
    let live = true;
    const load = () =>
      loadParts().then(
        (m) => live && setParts(m),
        () => live && setFailed(true),
      );
    if (!big) {
      void load();
      return () => {
        live = false;
      };
    }
    // After the frame that paints the canvas (a timeout queued from an animation frame).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => void load(), 0);
    });
    return () => {
      live = false;
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [ask, big, parts]);
  return { parts, failed };
}

/** What a panel shows while the editor's parts load (a moment after the canvas is drawn). */
const panelPlaceholder = (
  <p className="panel muted" aria-busy="true">
    Loading…
  </p>
);

export function JourneyPage({ id }: { id: string }) {
  const trpc = useTRPC();
  // The editor starts from the server's latest draft, never from the client cache: a cached
  // revision would make the next save look like a conflict with this tab's own earlier edits.
  const journey = useQuery({
    ...trpc.journeys.get.queryOptions({ id }),
    staleTime: 0,
    refetchOnMount: "always",
  });
  const me = useQuery(trpc.auth.me.queryOptions());
  // Whether the editor has started (from a fetch made after this page opened). Once started, a
  // failed background refetch must not take the editor, and its unsaved edits, away.
  const fresh = journey.isFetchedAfterMount && journey.isSuccess && !journey.isFetching;
  const [started, setStarted] = useState(false);
  if (fresh && !started) setStarted(true);
  // Bumped by "load the latest version" after a conflict (or a restored version): the editor
  // re-mounts on the fresh draft.
  const [generation, setGeneration] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  // Another journey starts from the sample test customer again.
  useEffect(() => useTestRunStore.getState().reset(), [id]);

  if (!started && !journey.isError)
    return (
      <p className="page" role="status">
        Loading journey…
      </p>
    );
  if (!started || !journey.data) {
    return (
      <section className="page">
        <p className="form-error" role="alert">
          {trpcErrorCode(journey.error) === "NOT_FOUND"
            ? "This journey does not exist."
            : `Could not load the journey: ${journey.error?.message ?? "no answer"}`}
        </p>
        {trpcErrorCode(journey.error) === "NOT_FOUND" ? null : (
          <button type="button" onClick={() => void journey.refetch()}>
            Try again
          </button>
        )}{" "}
        <a href={hrefs.journeys()}>Back to journeys</a>
      </section>
    );
  }
  const canEdit = me.data?.role !== "VIEWER" && journey.data.status !== "ARCHIVED";
  return (
    <Editor
      key={`${journey.data.id}#${generation}`}
      journey={journey.data}
      canEdit={canEdit}
      notice={notice}
      onReload={async (next) => {
        await journey.refetch();
        setGeneration((g) => g + 1);
        setNotice(next ?? null);
      }}
    />
  );
}

type Tab = "step" | "settings" | "problems" | "test" | "operate";

function Editor({
  journey: j,
  canEdit,
  notice,
  onReload,
}: {
  journey: JourneyDetail;
  canEdit: boolean;
  /** What the last reload was for ("Restored version 2 as the draft…"). */
  notice: string | null;
  onReload: (notice?: string) => Promise<void>;
}) {
  // Fixed for this editor's life: refetches of the journey (after a save or publish) must not
  // reload the canvas over edits in progress.
  const [draftKey] = useState(() => `${j.id}@${j.draftRevision}`);
  const save = useAutosave(j.id, j.draftRevision, canEdit);
  useWorkspaceCatalog();
  const big = j.draft.nodes.length > VALIDATE_LATER_OVER;
  const { parts, failed: partsFailed } = useEditorParts(draftKey, big);

  // Errors block publishing; warnings (e.g. a variable no customer has yet) are only shown.
  const { errorCount, checking, warningCount, selected, past, future, loadedKey } = useEditorStore(
    useShallow((s) => {
      const picked = s.nodes.filter((n) => n.selected);
      return {
        errorCount: s.errorCount,
        checking: s.checking,
        warningCount: s.issues.length - s.errorCount,
        selected: picked.length === 1 ? picked[0] : undefined,
        past: s.past.length,
        future: s.future.length,
        loadedKey: s.loadedKey,
      };
    }),
  );
  const [chosenTab, setTab] = useState<Tab>(j.liveVersion === null ? "problems" : "operate");
  const [publishing, setPublishing] = useState(false);
  // Selecting a step opens its form; choosing another tab afterwards wins until the selection changes.
  const selectedId = selected?.id ?? null;
  const [tabSelection, setTabSelection] = useState<string | null>(null);
  if (selectedId !== tabSelection) {
    setTabSelection(selectedId);
    if (selectedId) setTab("step");
  }
  const tab = chosenTab;
  useLiveCounts(j.id, j.liveVersion !== null && loadedKey === draftKey);
  const unchanged =
    useUnchangedSinceLive(j.id, j.liveVersion, save.revision, canEdit && save.state === "saved") &&
    save.state === "saved";

  // A small journey's canvas waits for the language anyway: the editor appears whole, with its
  // panels (loaded with the language), as before issue 18.
  if (!big && !parts && !partsFailed)
    return (
      <p className="page" role="status">
        Loading journey…
      </p>
    );

  const store = useEditorStore.getState();
  const tabs: { id: Tab; label: string }[] = [
    { id: "step", label: "Step" },
    { id: "settings", label: "Settings" },
    { id: "problems", label: problemsLabel(errorCount, warningCount) },
    { id: "test", label: "Test run" },
    { id: "operate", label: "Operate" },
  ];

  return (
    <section className="journey" aria-labelledby="journey-title">
      <header className="journey__header">
        <a href={hrefs.journeys()} className="journey__back">
          ← Journeys
        </a>
        <h1 id="journey-title">{j.name}</h1>
        <StatusBadge status={j.status} />
        <a href={`${hrefs.journey(j.id)}/analytics`}>Analytics</a>
        {/* issue 18: no "draft revision 4" (the autosave's counter stays as data-revision). */}
        <span className="muted" data-revision={save.revision}>
          {j.liveVersion === null ? "Not published yet" : `Live v${j.liveVersion}`} · edited{" "}
          <time dateTime={j.updatedAt}>{formatDateTime(j.updatedAt)}</time>
        </span>
        <span className="journey__spacer" />
        {canEdit ? (
          <SaveIndicator
            state={save.state}
            message={save.message}
            onReload={() => void onReload()}
          />
        ) : (
          <span className="muted">Read only</span>
        )}
        {canEdit ? (
          <div className="toolbar" role="toolbar" aria-label="Edit">
            <button
              type="button"
              onClick={store.undo}
              disabled={past === 0}
              aria-keyshortcuts="Control+Z"
            >
              Undo
            </button>
            <button
              type="button"
              onClick={store.redo}
              disabled={future === 0}
              aria-keyshortcuts="Control+Shift+Z"
            >
              Redo
            </button>
            <button type="button" onClick={() => void store.layout()}>
              Auto-layout
            </button>
            <button
              type="button"
              className="primary"
              // Not before the journey has been checked (a big one is checked a moment after it is
              // drawn, in a worker): until then no problems are known, not none found (issue 18).
              disabled={checking || errorCount > 0 || save.state === "conflict" || unchanged}
              title={
                checking
                  ? "Checking the journey for problems…"
                  : errorCount > 0
                    ? "Fix the problems first"
                    : unchanged
                      ? `Nothing changed since live version ${j.liveVersion ?? ""}`
                      : undefined
              }
              onClick={() => setPublishing(true)}
            >
              Publish…
            </button>
          </div>
        ) : null}
      </header>
      {notice ? (
        <p className="journey__notice" role="status">
          {notice}
        </p>
      ) : null}
      {partsFailed ? (
        <p className="form-error" role="alert">
          Could not load the editor&apos;s panels. Check the connection and reload the page.
        </p>
      ) : null}
      {parts ? <parts.MigrationProgress journeyId={j.id} /> : null}
      {publishing && parts ? (
        <parts.PublishDialog
          journeyId={j.id}
          journeyName={j.name}
          flush={save.flush}
          onClose={() => setPublishing(false)}
        />
      ) : null}
      <div className="editor" onKeyDown={canEdit ? onEditorShortcut : undefined}>
        {parts ? (
          <parts.Palette disabled={!canEdit} />
        ) : (
          <nav className="palette" aria-label="Steps" aria-busy="true">
            <h2>Steps</h2>
          </nav>
        )}
        <JourneyCanvas draftKey={draftKey} draft={j.draft} editable={canEdit} />
        <aside className="sidebar" aria-label="Journey details">
          <div className="tabs" role="tablist" aria-label="Panels">
            {tabs.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`tabpanel-${t.id}`}
                className={`tabs__tab${tab === t.id ? " tabs__tab--active" : ""}${t.id === "problems" && errorCount > 0 ? " tabs__tab--alert" : ""}`}
                onClick={() => setTab(t.id)}
              >
                {t.label}
              </button>
            ))}
          </div>
          <div
            className="sidebar__body"
            role="tabpanel"
            id={`tabpanel-${tab}`}
            aria-labelledby={`tab-${tab}`}
          >
            {!parts ? panelPlaceholder : null}
            {parts && tab === "step" ? (
              selected ? (
                <parts.StepPanel node={selected} />
              ) : (
                <p className="panel">Select one step to edit it.</p>
              )
            ) : null}
            {parts && tab === "settings" ? <parts.SettingsPanel /> : null}
            {parts && tab === "problems" ? (
              <parts.IssuesPanel onFocus={(issue) => focusIssue(issue, setTab)} />
            ) : null}
            {parts && tab === "test" ? <parts.TestRunPanel /> : null}
            {parts && tab === "operate" ? (
              <parts.OperatePanel
                journeyId={j.id}
                status={j.status}
                canEdit={canEdit}
                draft={{
                  flush: save.flush,
                  revision: save.revision,
                  onRestored: (version) =>
                    void onReload(
                      `Version ${version} is now the draft. Review it, then publish it to make it live.`,
                    ),
                  onReload: () => void onReload(),
                }}
              />
            ) : null}
          </div>
        </aside>
      </div>
    </section>
  );
}

/** "Problems (2)", "Problems (2, 1 warning)", "Problems (1 warning)" or "Problems". */
function problemsLabel(errors: number, warnings: number): string {
  const parts = [
    ...(errors > 0 ? [String(errors)] : []),
    ...(warnings > 0 ? [`${warnings} warning${warnings === 1 ? "" : "s"}`] : []),
  ];
  return parts.length > 0 ? `Problems (${parts.join(", ")})` : "Problems";
}

function focusIssue(
  issue: { nodeId?: string; edgeId?: string; field?: string },
  setTab: (t: Tab) => void,
) {
  const store = useEditorStore.getState();
  const nodeId = issue.nodeId ?? store.edges.find((e) => e.id === issue.edgeId)?.source;
  if (nodeId && store.nodes.some((n) => n.id === nodeId)) {
    store.focusNode(nodeId);
    setTab("step");
  } else if (issue.field?.startsWith("settings")) {
    setTab("settings");
  }
}

function SaveIndicator({
  state,
  message,
  onReload,
}: {
  state: SaveState;
  message: string | null;
  onReload: () => void;
}) {
  const text: Record<SaveState, string> = {
    saved: "All changes saved",
    dirty: "Unsaved changes…",
    saving: "Saving…",
    conflict: "Not saved",
    error: "Not saved",
  };
  return (
    <span className={`save save--${state}`} role="status" aria-live="polite">
      {text[state]}
      {state === "conflict" || state === "error" ? (
        <>
          <span className="form-error" role="alert">
            {" "}
            {message}
          </span>
          {state === "conflict" ? (
            <button type="button" onClick={onReload}>
              Load the latest version
            </button>
          ) : null}
        </>
      ) : null}
    </span>
  );
}

/**
 * Whether the saved draft is exactly the live version (issue 18): then "Publish…" has nothing
 * to offer. Asked again after every save and every publish.
 */
function useUnchangedSinceLive(
  journeyId: string,
  liveVersion: number | null,
  revision: number,
  enabled: boolean,
): boolean {
  const client = useTRPCClient();
  const diff = useQuery({
    queryKey: ["journeys", "diff", journeyId, liveVersion, revision],
    queryFn: () => client.journeys.diff.query({ id: journeyId }),
    enabled: enabled && liveVersion !== null,
    staleTime: 0,
    retry: false,
  });
  return diff.data?.ok === true && diff.data.liveVersion !== null && diff.data.diff?.same === true;
}

/** Per-step counts of the live journey, refreshed every few seconds while the page is open. */
function useLiveCounts(journeyId: string, enabled: boolean) {
  const operate = useOperateClient();
  const counts = useQuery({
    queryKey: ["operate", "nodeCounts", journeyId],
    queryFn: () => operate.nodeCounts.query({ journeyId }),
    enabled,
    refetchInterval: 3_000,
    staleTime: 0,
    retry: false,
  });
  const setCounts = useEditorStore((s) => s.setCounts);
  const data = counts.data;
  useEffect(() => {
    setCounts(data ?? null);
  }, [data, setCounts]);
}
