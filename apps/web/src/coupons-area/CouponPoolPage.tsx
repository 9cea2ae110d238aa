// issue 16: one coupon pool — its figures (codes left, given out, all), the journeys giving codes
// from it, and for marketers: add codes (paste them, or upload a .csv/.txt file whose first
// column holds them), rename, delete. A big file is sent in parts (upload.ts) with progress, and
// the answer is one message: added, already in the pool, repeated, lines skipped and why.
import * as AlertDialog from "@radix-ui/react-alert-dialog";
import * as RadixDialog from "@radix-ui/react-dialog";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type ChangeEvent } from "react";
import { countOf, formatCount, formatDateTime } from "../format.ts";
import { errorMessage, useTRPC, useTRPCClient } from "../trpc.ts";
import type { AddCodesResult, CouponPoolRow } from "./contract.ts";
import { poolNameProblem } from "./CouponPoolListPage.tsx";
import { StockBadge, UsedBy } from "./parts.tsx";
import { couponsHrefs } from "./routes.ts";
import { addUp, emptyResult, readCodesFile, splitIntoParts, uploadProblem } from "./upload.ts";
import "./coupons.css";

/** Where to go once the pool is deleted; by default the list (`#/coupons`). */
function openList() {
  window.location.hash = couponsHrefs.coupons().slice(1);
}

export function CouponPoolPage({
  id,
  onDeleted = openList,
}: {
  id: string;
  /** Called once the pool is deleted (the router may navigate its own way). */
  onDeleted?: () => void;
}) {
  const trpc = useTRPC();
  const pool = useQuery(trpc.coupons.get.queryOptions({ id }));
  const me = useQuery(trpc.auth.me.queryOptions());
  const canEdit = me.data ? me.data.role !== "VIEWER" : false;
  return (
    <section className="page coupons" aria-labelledby="pool-title">
      <p>
        <a href={couponsHrefs.coupons()}>← Coupons</a>
      </p>
      {pool.isPending ? <p role="status">Loading the coupon pool…</p> : null}
      {pool.isError ? (
        <p className="form-error" role="alert">
          Could not load this coupon pool: {errorMessage(pool.error)}
        </p>
      ) : null}
      {pool.isSuccess ? (
        <PoolView pool={pool.data} canEdit={canEdit} onDeleted={onDeleted} />
      ) : null}
    </section>
  );
}

function PoolView({
  pool,
  canEdit,
  onDeleted,
}: {
  pool: CouponPoolRow;
  canEdit: boolean;
  onDeleted: () => void;
}) {
  return (
    <>
      <div className="page__title">
        <h1 id="pool-title">{pool.name}</h1>
        {canEdit ? (
          <div className="coupons__actions">
            <RenamePool pool={pool} />
            <DeletePool pool={pool} onDeleted={onDeleted} />
          </div>
        ) : null}
      </div>
      <dl className="coupons__figures" aria-label="Codes">
        <div>
          <dt>Codes left</dt>
          <dd>
            {formatCount(pool.left)} <StockBadge stock={pool.stock} />
          </dd>
        </div>
        <div>
          <dt>Given out</dt>
          <dd>{formatCount(pool.used)}</dd>
        </div>
        <div>
          <dt>All codes</dt>
          <dd>{formatCount(pool.codes)}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <time dateTime={pool.createdAt}>{formatDateTime(pool.createdAt)}</time>
          </dd>
        </div>
      </dl>
      <p className="muted">
        “Given out” counts codes a journey’s coupon step gave to a customer; each code goes to one
        customer only. Low stock means fewer than 100 codes left, or less than 10% of the pool.
      </p>
      <h2>Used by</h2>
      <UsedBy uses={pool.usedBy} />
      {canEdit ? <AddCodes pool={pool} /> : null}
    </>
  );
}

type Progress = { done: number; of: number } | null;

/** Paste codes or choose a file; sent in parts; the answer in words. */
function AddCodes({ pool }: { pool: CouponPoolRow }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [progress, setProgress] = useState<Progress>(null);
  const [result, setResult] = useState<AddCodesResult | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const send = async (content: string) => {
    const refused = uploadProblem(content);
    if (refused) {
      setProblem(refused);
      return;
    }
    setProblem(null);
    setResult(null);
    const parts = splitIntoParts(content);
    let total = emptyResult();
    try {
      for (const [i, part] of parts.entries()) {
        setProgress({ done: i, of: parts.length });
        const r = await client.coupons.addCodes.mutate({
          id: pool.id,
          text: part.text,
          firstLine: part.firstLine,
        });
        total = addUp(total, r);
      }
      setResult(total);
      setText("");
      setFileName(null);
      if (fileInput.current) fileInput.current.value = "";
    } catch (err) {
      const message = err instanceof Error ? errorMessage(err) : String(err);
      setProblem(
        total.added > 0 || total.alreadyInPool > 0
          ? `Stopped after adding ${countOf(total.added, "code")}: ${message} Add the list again to finish: codes already in the pool are counted, not added twice.`
          : `Could not add the codes: ${message}`,
      );
      if (total.added > 0) setResult(total);
    } finally {
      setProgress(null);
      await queryClient.invalidateQueries({ queryKey: trpc.coupons.pathKey() });
      await queryClient.invalidateQueries({ queryKey: trpc.journeys.couponPools.queryKey() });
    }
  };

  const chooseFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    setResult(null);
    const read = await readCodesFile(file);
    if ("problem" in read) {
      setProblem(read.problem);
      e.target.value = "";
      return;
    }
    setFileName(file.name);
    await send(read.text);
  };

  const busy = progress !== null;
  return (
    <section className="coupons__add" aria-labelledby="add-codes-title">
      <h2 id="add-codes-title">Add codes</h2>
      <p className="muted">
        One code per line, or a CSV file with the codes in the first column (a header line such as
        “Code” is skipped). Codes have up to 64 letters, digits or punctuation, no spaces. Codes
        already in the pool are not added twice. Up to 100,000 codes at a time.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setFileName(null);
          void send(text);
        }}
      >
        <div className="field">
          <label htmlFor="pool-codes">Paste codes</label>
          <textarea
            id="pool-codes"
            rows={8}
            value={text}
            spellCheck={false}
            onChange={(e) => setText(e.target.value)}
            disabled={busy}
          />
        </div>
        <div className="coupons__add-actions">
          <button type="submit" className="primary" disabled={busy || text.trim() === ""}>
            Add codes
          </button>
          <span className="muted">or</span>
          <label className="coupons__file">
            Upload a .csv or .txt file
            <input
              ref={fileInput}
              type="file"
              accept=".csv,.txt,text/csv,text/plain"
              onChange={(e) => void chooseFile(e)}
              disabled={busy}
            />
          </label>
        </div>
      </form>
      {progress ? (
        <p role="status">
          Adding codes{fileName ? ` from ${fileName}` : ""}…
          {progress.of > 1 ? ` part ${progress.done + 1} of ${progress.of}` : ""}
        </p>
      ) : null}
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : null}
      {result ? <UploadResult result={result} /> : null}
    </section>
  );
}

/** "Added 1,200 codes. 30 were already in the pool. …" and the skipped lines with reasons. */
export function UploadResult({ result }: { result: AddCodesResult }) {
  const sentences = [
    `Added ${countOf(result.added, "code")}.`,
    result.alreadyInPool > 0
      ? `${formatCount(result.alreadyInPool)} ${result.alreadyInPool === 1 ? "was" : "were"} already in the pool.`
      : null,
    result.repeated > 0
      ? `${formatCount(result.repeated)} ${result.repeated === 1 ? "was" : "were"} repeated in your list (added once).`
      : null,
    result.headerSkipped ? "The first line looked like a header and was skipped." : null,
    result.invalidCount > 0
      ? `${countOf(result.invalidCount, "line")} ${result.invalidCount === 1 ? "was" : "were"} not a usable code and ${result.invalidCount === 1 ? "was" : "were"} skipped.`
      : null,
    `The pool now has ${formatCount(result.left)} of ${countOf(result.codes, "code")} left.`,
  ].filter((s): s is string => s !== null);
  return (
    <div className="coupons__result" role="status" aria-label="Upload result">
      <p>{sentences.join(" ")}</p>
      {result.invalid.length > 0 ? (
        <>
          <ul className="coupons__skipped" aria-label="Skipped lines">
            {result.invalid.map((l) => (
              <li key={l.line}>
                Line {formatCount(l.line)}: <code>{l.text}</code> — {l.reason}
              </li>
            ))}
          </ul>
          {result.invalidCount > result.invalid.length ? (
            <p className="muted">
              and {countOf(result.invalidCount - result.invalid.length, "more line")}.
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function RenamePool({ pool }: { pool: CouponPoolRow }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(pool.name);
  const [tried, setTried] = useState(false);
  const rename = useMutation(
    trpc.coupons.rename.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.coupons.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.journeys.couponPools.queryKey() });
        setOpen(false);
      },
    }),
  );
  const problem = poolNameProblem(name);
  const shown = tried ? (problem ?? (rename.error ? errorMessage(rename.error) : null)) : null;
  const drafts = pool.usedBy.filter((u) => !u.live);
  return (
    <RadixDialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        setName(pool.name);
        setTried(false);
        rename.reset();
      }}
    >
      <RadixDialog.Trigger asChild>
        <button type="button">Rename…</button>
      </RadixDialog.Trigger>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="dialog-backdrop" />
        <RadixDialog.Content className="dialog coupons__dialog" aria-describedby={undefined}>
          <RadixDialog.Title>Rename “{pool.name}”</RadixDialog.Title>
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              setTried(true);
              if (problem) return;
              rename.mutate({ id: pool.id, name: name.trim() });
            }}
          >
            <div className="field">
              <label htmlFor="rename-pool-name">Name</label>
              <input
                id="rename-pool-name"
                type="text"
                value={name}
                maxLength={200}
                onChange={(e) => {
                  setName(e.target.value);
                  rename.reset();
                }}
                aria-invalid={shown ? true : undefined}
              />
              {shown ? (
                <span className="field__error" role="alert">
                  {shown}
                </span>
              ) : null}
            </div>
            {drafts.length > 0 ? (
              <p className="muted">
                Coupon steps choose the pool by name: in the draft
                {drafts.length > 1 ? "s" : ""} {drafts.map((d) => `“${d.name}”`).join(", ")}, choose
                the pool again after renaming it.
              </p>
            ) : null}
            <div className="dialog__actions">
              <RadixDialog.Close asChild>
                <button type="button">Cancel</button>
              </RadixDialog.Close>
              <button type="submit" className="primary" disabled={rename.isPending}>
                Rename
              </button>
            </div>
          </form>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}

function DeletePool({ pool, onDeleted }: { pool: CouponPoolRow; onDeleted: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const remove = useMutation(
    trpc.coupons.delete.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        queryClient.removeQueries({ queryKey: trpc.coupons.get.queryKey({ id: pool.id }) });
        await queryClient.invalidateQueries({ queryKey: trpc.coupons.list.queryKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.journeys.couponPools.queryKey() });
        onDeleted();
      },
    }),
  );
  return (
    <AlertDialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) remove.reset();
      }}
    >
      <AlertDialog.Trigger asChild>
        <button type="button" className="danger">
          Delete…
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="dialog-backdrop" />
        <AlertDialog.Content className="dialog coupons__dialog">
          <AlertDialog.Title>Delete “{pool.name}”?</AlertDialog.Title>
          <AlertDialog.Description>
            The pool and its {countOf(pool.codes, "code")} are deleted for good. A pool whose codes
            were given to customers, or that a live journey gives codes from, cannot be deleted.
          </AlertDialog.Description>
          {remove.isError ? (
            <p className="form-error" role="alert">
              {errorMessage(remove.error)}
            </p>
          ) : null}
          <div className="dialog__actions">
            <AlertDialog.Cancel asChild>
              <button type="button">Cancel</button>
            </AlertDialog.Cancel>
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate({ id: pool.id })}
            >
              {remove.isPending ? "Deleting…" : "Delete pool"}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
