// issue 16: the Coupons area's list — the workspace's coupon pools (lists of unique codes a
// journey's coupon step gives out, one per customer) with codes left and used, a low-stock badge
// and the journeys giving codes from each; "New pool" for marketers.
import * as RadixDialog from "@radix-ui/react-dialog";
import { createColumnHelper } from "@tanstack/react-table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { DataTable, type dataTableFeatures } from "../components/DataTable.tsx";
import { formatCount, formatDateTime } from "../format.ts";
import { errorMessage, useTRPC } from "../trpc.ts";
import type { CouponPoolRow } from "./contract.ts";
import { couponsHrefs } from "./routes.ts";
import { StockBadge, UsedBy } from "./parts.tsx";
import "./coupons.css";

const helper = createColumnHelper<typeof dataTableFeatures, CouponPoolRow>();
const columns = helper.columns([
  helper.accessor("name", {
    header: "Pool",
    cell: (info) => <a href={couponsHrefs.pool(info.row.original.id)}>{info.getValue()}</a>,
  }),
  helper.accessor("left", {
    header: "Codes left",
    cell: (info) => (
      <span className="coupons__left">
        {formatCount(info.getValue())} <StockBadge stock={info.row.original.stock} />
      </span>
    ),
  }),
  helper.accessor("used", {
    header: "Given out",
    cell: (info) => formatCount(info.getValue()),
  }),
  helper.accessor("codes", {
    header: "All codes",
    cell: (info) => formatCount(info.getValue()),
  }),
  helper.accessor("usedBy", {
    header: "Used by",
    cell: (info) => <UsedBy uses={info.getValue()} />,
  }),
  helper.accessor("createdAt", {
    header: "Created",
    cell: (info) => <time dateTime={info.getValue()}>{formatDateTime(info.getValue())}</time>,
  }),
]);

/** Where to go once a pool is made; by default its page (`#/coupons/<id>`). */
function openPool(id: string) {
  window.location.hash = couponsHrefs.pool(id).slice(1);
}

export function CouponPoolListPage({
  onCreated = openPool,
}: {
  /** Called with the new pool's id (the router may navigate its own way). */
  onCreated?: (id: string) => void;
}) {
  const trpc = useTRPC();
  const pools = useQuery(trpc.coupons.list.queryOptions());
  const me = useQuery(trpc.auth.me.queryOptions());
  const canEdit = me.data ? me.data.role !== "VIEWER" : false;
  return (
    <section className="page coupons" aria-labelledby="coupons-title">
      <div className="page__title">
        <h1 id="coupons-title">Coupons</h1>
        {canEdit ? <NewPoolDialog onCreated={onCreated} /> : null}
      </div>
      <p className="muted">
        Coupon pools are lists of unique codes, for example exported from your shop. A journey’s
        coupon step gives each customer one code from the pool it names; a code is never given
        twice.
      </p>
      {pools.isPending ? <p role="status">Loading coupon pools…</p> : null}
      {pools.isError ? (
        <p className="form-error" role="alert">
          Could not load coupon pools: {errorMessage(pools.error)}
        </p>
      ) : null}
      {pools.isSuccess && pools.data.length === 0 ? (
        <p>No coupon pools yet. Create one, then paste or upload its codes.</p>
      ) : null}
      {pools.isSuccess && pools.data.length > 0 ? (
        <DataTable
          label="Coupon pools"
          className="journeys coupons__table"
          columns={columns}
          rows={pools.data}
          rowId={(row) => row.id}
        />
      ) : null}
    </section>
  );
}

/** "New pool": a name, unique in the workspace (the server says so next to the field). */
function NewPoolDialog({ onCreated }: { onCreated: (id: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [tried, setTried] = useState(false);
  const create = useMutation(
    trpc.coupons.create.mutationOptions({
      onSuccess: async (r) => {
        await queryClient.invalidateQueries({ queryKey: trpc.coupons.pathKey() });
        // The coupon step's pool picker lists it too.
        await queryClient.invalidateQueries({ queryKey: trpc.journeys.couponPools.queryKey() });
        setOpen(false);
        onCreated(r.id);
      },
    }),
  );
  const problem = poolNameProblem(name);
  const shown = tried ? (problem ?? (create.error ? errorMessage(create.error) : null)) : null;
  return (
    <RadixDialog.Root
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) {
          setName("");
          setTried(false);
          create.reset();
        }
      }}
    >
      <RadixDialog.Trigger asChild>
        <button type="button" className="primary">
          New pool
        </button>
      </RadixDialog.Trigger>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="dialog-backdrop" />
        <RadixDialog.Content className="dialog coupons__dialog" aria-describedby={undefined}>
          <RadixDialog.Title>New coupon pool</RadixDialog.Title>
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              setTried(true);
              if (problem) return;
              create.mutate({ name: name.trim() });
            }}
          >
            <div className="field">
              <label htmlFor="new-pool-name">Name</label>
              <input
                id="new-pool-name"
                type="text"
                value={name}
                maxLength={200}
                onChange={(e) => {
                  setName(e.target.value);
                  create.reset();
                }}
                aria-invalid={shown ? true : undefined}
                aria-describedby="new-pool-name-help"
              />
              <span id="new-pool-name-help" className="muted">
                {shown ? (
                  <span className="field__error" role="alert">
                    {shown}
                  </span>
                ) : (
                  "Journeys’ coupon steps choose the pool by this name, e.g. “Spring 20% off”."
                )}
              </span>
            </div>
            <div className="dialog__actions">
              <RadixDialog.Close asChild>
                <button type="button">Cancel</button>
              </RadixDialog.Close>
              <button type="submit" className="primary" disabled={create.isPending}>
                {create.isPending ? "Creating…" : "Create pool"}
              </button>
            </div>
          </form>
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}

/** As the API checks a pool name (trimmed, 1–100 characters). */
export function poolNameProblem(name: string): string | null {
  const n = name.trim();
  if (!n) return "Give the pool a name.";
  if (n.length > 100) return "A pool name can be at most 100 characters.";
  return null;
}
