// issue 14: a landing page in the block editor (Puck, with the same blocks the server renders).
// Loaded only when a page is opened (App.tsx lazy-loads this module), with Puck's stylesheet: the
// variant without the web-font @import (puck.css loads Inter from rsms.me, a third-party request
// that fails on a closed network and breaks loading this module's CSS).
import "@puckeditor/core/no-external.css";
import "./pages.css";
import type { Data } from "@puckeditor/core";
import { Puck } from "@puckeditor/core";
import { validatePageDocument } from "@postpath/journey";
import { PAGE_CSS, pageConfig } from "@postpath/pages";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useCallback, useDeferredValue, useEffect, useMemo, useState } from "react";
import { formatDateTime } from "../format.ts";
import { errorMessage, trpcErrorCode, useTRPC } from "../trpc.ts";
import type { PageDetail } from "./contract.ts";
import type { PageSaveState } from "./pageAutosave.ts";
import { usePageAutosave } from "./pageAutosave.ts";
import { PageFunnelPanel } from "./PageFunnel.tsx";
import { previewConfig } from "./pagePreview.ts";
import { pagesHrefs } from "./routes.ts";

export function PageEditorPage({ id }: { id: string }) {
  const trpc = useTRPC();
  // The editor starts from the server's latest draft, never from the client cache: a cached
  // revision would make the first save look like a conflict with this tab's own earlier edits.
  const page = useQuery({
    ...trpc.pages.get.queryOptions({ id }),
    staleTime: 0,
    refetchOnMount: "always",
  });
  const me = useQuery(trpc.auth.me.queryOptions());
  // Whether the editor has started (from a fetch made after this page opened). Once started, a
  // failed background refetch must not take the editor, and its unsaved edits, away.
  const fresh = page.isFetchedAfterMount && page.isSuccess && !page.isFetching;
  const [started, setStarted] = useState(false);
  if (fresh && !started) setStarted(true);
  // Bumped by "Load the latest version" after a conflict: the editor re-mounts on the fresh draft.
  const [generation, setGeneration] = useState(0);

  if (!started && !page.isError)
    return (
      <p className="page" role="status">
        Loading page…
      </p>
    );
  if (!started || !page.data) {
    const notFound = trpcErrorCode(page.error) === "NOT_FOUND";
    return (
      <section className="page">
        <p className="form-error" role="alert">
          {notFound
            ? "This page does not exist."
            : `Could not load the page: ${page.error?.message ?? "no answer"}`}
        </p>
        {notFound ? null : (
          <button type="button" onClick={() => void page.refetch()}>
            Try again
          </button>
        )}{" "}
        <a href={pagesHrefs.pages()}>Back to pages</a>
      </section>
    );
  }
  return (
    <PageEditor
      key={`${page.data.id}#${generation}`}
      page={page.data}
      canEdit={me.data?.role !== "VIEWER"}
      onReload={async () => {
        await page.refetch();
        setGeneration((g) => g + 1);
      }}
    />
  );
}

const READ_ONLY = { drag: false, duplicate: false, delete: false, edit: false, insert: false };

function PageEditor({
  page,
  canEdit,
  onReload,
}: {
  page: PageDetail;
  canEdit: boolean;
  onReload: () => Promise<void>;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Fixed for this editor's life: refetches of the page (after a save or publish) must not
  // reload the editor over edits in progress.
  const [initial] = useState(() => ({ revision: page.revision, draft: page.draft }));
  const save = usePageAutosave(page.id, initial, canEdit);
  const [doc, setDoc] = useState<unknown>(initial.draft);
  const issues = useMemo(() => validatePageDocument(doc), [doc]);
  const shownIssues = useDeferredValue(issues);
  const [published, setPublished] = useState<number | null>(null);
  const publish = useMutation(
    trpc.pages.publish.mutationOptions({
      onSuccess: async (r) => {
        setPublished(r.version);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.pages.get.queryKey({ id: page.id }) }),
          queryClient.invalidateQueries({ queryKey: trpc.pages.list.queryKey() }),
        ]);
      },
    }),
  );
  const [publishBlocked, setPublishBlocked] = useState(false);
  /** Saves at once, after the editor's last change has landed (Puck applies field edits async). */
  const saveNow = async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return save.flush();
  };
  const publishNow = async () => {
    publish.reset();
    setPublished(null);
    setPublishBlocked(false);
    // The server publishes the saved draft: save what the editor shows first.
    if (!(await saveNow())) {
      setPublishBlocked(true);
      return;
    }
    publish.mutate({ id: page.id });
  };
  const live = published ?? page.publishedVersion;
  const { change } = save;
  const onChange = useCallback(
    (data: Data) => {
      setDoc(data);
      change(data);
    },
    [change],
  );
  // The preview draws Liquid with sample values; the fields keep what the marketer typed.
  const config = useMemo(() => previewConfig(pageConfig), []);
  const overrides = useMemo(
    () => ({
      // Our header above the editor carries the page's name, Save and Publish.
      header: () => <></>,
      iframe: PreviewFrame,
    }),
    [],
  );

  return (
    <section className="journey page-editor" aria-labelledby="page-title">
      <header className="journey__header">
        <a href={pagesHrefs.pages()} className="journey__back">
          ← Pages
        </a>
        {canEdit ? (
          <PageName
            name={save.savedName ?? page.name}
            disabled={save.state === "conflict"}
            onRename={save.rename}
          />
        ) : (
          <h1 id="page-title">{page.name}</h1>
        )}
        <span className="muted">
          <code>{page.slug}</code> · {live === null ? "Not published" : `Published v${live}`} ·
          edited <time dateTime={page.updatedAt}>{formatDateTime(page.updatedAt)}</time>
        </span>
        <span className="journey__spacer" />
        {canEdit ? (
          <>
            <SaveIndicator
              state={save.state}
              message={save.message}
              onReload={() => void onReload()}
            />
            <div className="toolbar" role="toolbar" aria-label="Page">
              <button
                type="button"
                onClick={() => void saveNow()}
                disabled={save.state === "conflict" || save.state === "saving"}
              >
                Save
              </button>
              <button
                type="button"
                className="primary"
                onClick={() => void publishNow()}
                disabled={publish.isPending || save.state === "conflict"}
              >
                {publish.isPending ? "Publishing…" : "Publish"}
              </button>
            </div>
          </>
        ) : (
          <span className="muted">Read only</span>
        )}
      </header>
      {published !== null && !publish.isPending ? (
        <p className="page-editor__notice" role="status">
          Published as version {published}. Links already sent show this version from now on.
        </p>
      ) : null}
      {publish.isError ? (
        <div className="page-editor__problems form-error" role="alert">
          <p>Not published: {errorMessage(publish.error)}</p>
        </div>
      ) : publishBlocked && save.state !== "conflict" ? (
        <p className="page-editor__problems form-error" role="alert">
          Not published: the page could not be saved first.
        </p>
      ) : null}
      <PageFunnelPanel pageId={page.id} />
      {canEdit && shownIssues.length > 0 ? (
        <details className="page-editor__issues">
          <summary>
            {shownIssues.length === 1
              ? "1 thing to fix before publishing"
              : `${shownIssues.length} things to fix before publishing`}
          </summary>
          <ul>
            {shownIssues.map((issue, i) => (
              <li key={i}>
                <strong>{issue.block}:</strong> {issue.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <p className="page-editor__sample muted" role="note">
        The preview shows sample values: customer Ada Lovelace, machine Barista Pro (serial
        SN-0042), coupon THANKS-4F7K. Each visitor sees their own.
      </p>
      <div className="page-editor__puck">
        <Puck
          config={config}
          data={initial.draft}
          onChange={onChange}
          overrides={overrides}
          permissions={canEdit ? undefined : READ_ONLY}
          headerTitle={page.name}
          height="100%"
        />
      </div>
    </section>
  );
}

/** The page's name, and renaming it (saved at once, with the draft and its revision). */
function PageName({
  name,
  disabled,
  onRename,
}: {
  name: string;
  disabled: boolean;
  onRename: (name: string) => Promise<boolean>;
}) {
  const [editing, setEditing] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (editing === null)
    return (
      <>
        <h1 id="page-title">{name}</h1>
        <button type="button" onClick={() => setEditing(name)} disabled={disabled}>
          Rename
        </button>
      </>
    );
  const problem = !editing.trim()
    ? "Give the page a name."
    : editing.trim().length > 120
      ? "Keep the name under 120 characters."
      : null;
  return (
    <form
      className="page-editor__rename"
      onSubmit={(e) => {
        e.preventDefault();
        if (problem) return;
        setBusy(true);
        void onRename(editing.trim()).then((ok) => {
          setBusy(false);
          if (ok) setEditing(null);
        });
      }}
    >
      <h1 id="page-title" className="visually-hidden">
        {name}
      </h1>
      <label htmlFor="page-name">Page name</label>
      <input
        id="page-name"
        type="text"
        value={editing}
        onChange={(e) => setEditing(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") setEditing(null);
        }}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? "page-name-error" : undefined}
        autoFocus
      />
      {problem ? (
        <span id="page-name-error" className="field__error">
          {problem}
        </span>
      ) : null}
      <button type="submit" disabled={busy || problem !== null}>
        Save name
      </button>
      <button type="button" onClick={() => setEditing(null)}>
        Cancel
      </button>
    </form>
  );
}

/** The canvas iframe gets the served page's stylesheet, so blocks look as customers see them. */
function PreviewFrame({ children, document }: { children: ReactNode; document?: Document }) {
  useEffect(() => {
    if (!document) return;
    const style = document.createElement("style");
    style.dataset["postpath"] = "page-css";
    style.textContent = PAGE_CSS;
    document.head.appendChild(style);
    return () => style.remove();
  }, [document]);
  return <>{children}</>;
}

function SaveIndicator({
  state,
  message,
  onReload,
}: {
  state: PageSaveState;
  message: string | null;
  onReload: () => void;
}) {
  const text: Record<PageSaveState, string> = {
    saved: "Saved",
    dirty: "Unsaved changes…",
    saving: "Saving…",
    conflict: "Not saved",
    error: "Not saved",
  };
  return (
    <span className={`save save--${state}`} role="status" aria-live="polite">
      {text[state]}
      {state === "conflict" ? (
        <>
          <span className="form-error" role="alert">
            {" "}
            Someone else changed this page — load the latest version. Your changes since the last
            save are not kept.
          </span>
          <button type="button" onClick={onReload}>
            Load the latest version
          </button>
        </>
      ) : state === "error" ? (
        <span className="form-error" role="alert">
          {" "}
          {message}
        </span>
      ) : null}
    </span>
  );
}
