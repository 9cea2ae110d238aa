// issue 16: a segment's editor — rules in a marketer's words ("has done purchase at least 2 times
// in the last 90 days", "tier equals gold", "is subscribed to email", "is in segment …"), matched
// all or any, with the size and 20 sample customers counted live by the database as it changes.
// Event, property and attribute names are NamePickers of what the workspace has seen
// (`journeys.catalog`, as on the canvas); a new name is kept with a "never seen yet" warning.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  ConditionOp,
  SegmentDefinition,
  type SegmentDefinitionInput,
  type SegmentRuleInput,
} from "@postpath/journey";
import type { WorkspaceCatalog } from "../api/contract.ts";
import {
  attributeOptions,
  eventOptions,
  eventPropertyOptions,
  type PickerSource,
} from "../canvas/pickers.ts";
import { OPERATOR_WORDS } from "../canvas/words.ts";
import { NamePicker } from "../components/NamePicker.tsx";
import { customersHrefs } from "../customers-area/routes.ts";
import { formatCount } from "../format.ts";
import { navigate } from "../routing.ts";
import { errorMessage, trpcErrorCode, useTRPC } from "../trpc.ts";
import type { SegmentDetail, SegmentPreview, SegmentRow } from "./contract.ts";
import { PrintRun } from "./PrintRun.tsx";
import { segmentsHrefs } from "./routes.ts";
import "./segments.css";

type Rule = SegmentRuleInput;

const KIND_WORDS: Record<Rule["kind"], string> = {
  event: "Did something (an event)",
  attribute: "Has an attribute",
  segment: "Is in another segment",
  consent: "Consent",
};

/** As long as the server caches the catalogue (as the journey editor keeps it). */
const CATALOG_STALE_MS = 60_000;

const COUNT_WORDS = {
  gte: "at least",
  gt: "more than",
  lte: "at most",
  lt: "fewer than",
  eq: "exactly",
} as const;

function newRule(kind: Rule["kind"]): Rule {
  switch (kind) {
    case "event":
      return { kind, event: "purchase", measure: "count", op: "gte", value: 1, withinDays: 90 };
    case "attribute":
      return { kind, property: "", op: "eq", value: "" };
    case "segment":
      return { kind, segmentId: "", inside: true };
    case "consent":
      return { kind, channel: "email", status: "subscribed" };
  }
}

export function SegmentEditorPage({ id }: { id: string | null }) {
  const trpc = useTRPC();
  const existing = useQuery({ ...trpc.segments.get.queryOptions({ id: id ?? "" }), enabled: !!id });
  if (id && existing.isPending)
    return (
      <p className="page" role="status">
        Loading segment…
      </p>
    );
  if (id && existing.isError)
    return (
      <section className="page">
        <p className="form-error" role="alert">
          {trpcErrorCode(existing.error) === "NOT_FOUND"
            ? "This segment does not exist (deleted?)."
            : `Could not load the segment: ${errorMessage(existing.error)}`}
        </p>
        <a href={segmentsHrefs.segments()}>Back to segments</a>
      </section>
    );
  return <Editor key={id ?? "new"} segment={existing.data ?? null} />;
}

function Editor({ segment }: { segment: SegmentDetail | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(segment?.name ?? "");
  const [description, setDescription] = useState(segment?.description ?? "");
  const [match, setMatch] = useState<"all" | "any">(segment?.definition?.match ?? "all");
  const [rules, setRules] = useState<Rule[]>(
    (segment?.definition?.rules as Rule[] | undefined) ?? [newRule("event")],
  );
  const lifecycle = segment?.kind === "lifecycle";
  const others = useQuery(trpc.segments.list.queryOptions());
  // What the workspace has seen, for the name pickers (undefined until it arrives: no warnings).
  const catalog = useQuery({
    ...trpc.journeys.catalog.queryOptions(),
    staleTime: CATALOG_STALE_MS,
  });
  const definition: SegmentDefinitionInput = { match, rules };
  const parsed = SegmentDefinition.safeParse(definition);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));

  // The preview follows the rules, half a second after the last change.
  const [previewed, setPreviewed] = useState<SegmentDefinitionInput | null>(null);
  const key = JSON.stringify(parsed.success ? parsed.data : null);
  useEffect(() => {
    if (!parsed.success) return;
    const t = setTimeout(() => setPreviewed(JSON.parse(key) as SegmentDefinitionInput), 500);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const preview = useQuery({
    ...trpc.segments.preview.queryOptions({
      definition: previewed ?? definition,
      ...(segment ? { id: segment.id } : {}),
    }),
    enabled: previewed !== null,
    retry: false,
  });

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.segments.pathKey() });
  const updateSegment = useMutation(
    trpc.segments.update.mutationOptions({ onSuccess: invalidate }),
  );
  const createSegment = useMutation(
    trpc.segments.create.mutationOptions({
      onSuccess: async (r) => {
        await invalidate();
        navigate(segmentsHrefs.segment(r.id));
      },
    }),
  );
  const save = segment ? updateSegment : createSegment;
  const remove = useMutation(
    trpc.segments.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.segments.pathKey() });
        navigate(segmentsHrefs.segments());
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.success) return;
    const input = { name, description, definition: parsed.data };
    if (segment)
      updateSegment.mutate(
        lifecycle ? { id: segment.id, description } : { id: segment.id, ...input },
      );
    else createSegment.mutate(input);
  };
  const update = (i: number, r: Rule) => setRules(rules.map((x, j) => (j === i ? r : x)));
  const segmentChoices = useMemo(
    () => ((others.data ?? []) as SegmentRow[]).filter((s) => s.id !== segment?.id),
    [others.data, segment?.id],
  );

  return (
    <section className="page segments" aria-labelledby="segment-title">
      <a href={segmentsHrefs.segments()}>← Segments</a>
      <h1 id="segment-title">{segment ? segment.name : "New segment"}</h1>
      {segment?.usedBy.length ? (
        <p className="muted">Starts the journeys: {segment.usedBy.join(", ")}</p>
      ) : null}
      <div className="segments__layout">
        <form className="segments__editor" onSubmit={submit} aria-label="Segment">
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} disabled={lifecycle} />
          </label>
          <label>
            Description
            <input value={description} onChange={(e) => setDescription(e.target.value)} />
          </label>
          {lifecycle ? (
            <p className="muted">
              A built-in lifecycle stage: change its rules in the lifecycle settings on the Segments
              page.
            </p>
          ) : null}
          <label>
            Customers who match
            <select
              value={match}
              onChange={(e) => setMatch(e.target.value as "all" | "any")}
              disabled={lifecycle}
            >
              <option value="all">all of these rules</option>
              <option value="any">any of these rules</option>
            </select>
          </label>
          <ol className="segments__rules">
            {rules.map((r, i) => (
              <li key={i} className="segments__rule">
                <fieldset disabled={lifecycle}>
                  <legend>Rule {i + 1}</legend>
                  <select
                    aria-label={`Rule ${i + 1} kind`}
                    value={r.kind}
                    onChange={(e) => update(i, newRule(e.target.value as Rule["kind"]))}
                  >
                    {Object.entries(KIND_WORDS).map(([k, w]) => (
                      <option key={k} value={k}>
                        {w}
                      </option>
                    ))}
                  </select>
                  <RuleFields
                    n={i + 1}
                    rule={r}
                    onChange={(x) => update(i, x)}
                    segments={segmentChoices}
                    workspace={catalog.data}
                  />
                  {rules.length > 1 ? (
                    <button
                      type="button"
                      onClick={() => setRules(rules.filter((_, j) => j !== i))}
                      aria-label={`Remove rule ${i + 1}`}
                    >
                      Remove
                    </button>
                  ) : null}
                  {problems
                    .filter((p) => p.path.startsWith(`rules.${i}.`) || p.path === `rules.${i}`)
                    .map((p) => (
                      <p key={p.path + p.message} className="form-error">
                        {p.message}
                      </p>
                    ))}
                </fieldset>
              </li>
            ))}
          </ol>
          {lifecycle ? null : (
            <button type="button" onClick={() => setRules([...rules, newRule("attribute")])}>
              Add a rule
            </button>
          )}
          <div className="segments__actions">
            <button type="submit" className="primary" disabled={!parsed.success || save.isPending}>
              {segment ? "Save segment" : "Create segment"}
            </button>
            {segment && !lifecycle ? (
              <button type="button" onClick={() => remove.mutate({ id: segment.id })}>
                Delete
              </button>
            ) : null}
          </div>
          {save.isError ? (
            <p className="form-error" role="alert">
              {errorMessage(save.error)}
            </p>
          ) : null}
          {save.isSuccess && segment ? <p role="status">Saved.</p> : null}
          {remove.isError ? (
            <p className="form-error" role="alert">
              {errorMessage(remove.error)}
            </p>
          ) : null}
        </form>
        <aside className="segments__preview" aria-label="Size preview" aria-live="polite">
          <h2>Who is in it now</h2>
          {!parsed.success ? (
            <p className="muted">Finish the rules to see the size.</p>
          ) : preview.isError ? (
            <p className="form-error" role="alert">
              {errorMessage(preview.error)}
            </p>
          ) : preview.data ? (
            <PreviewList preview={preview.data} stale={preview.isFetching} />
          ) : (
            <p role="status">Counting…</p>
          )}
        </aside>
      </div>
      {segment ? <PrintRun segmentId={segment.id} /> : null}
    </section>
  );
}

export function PreviewList({ preview, stale }: { preview: SegmentPreview; stale: boolean }) {
  return (
    <div className={stale ? "segments__stale" : undefined}>
      <p className="segments__count">
        {preview.estimate ? "About " : null}
        <strong>{formatCount(preview.count)}</strong>{" "}
        {preview.count === 1 ? "customer" : "customers"}
      </p>
      {preview.estimate ? (
        <p className="muted">
          Estimated from {formatCount(preview.estimate.sampled)} of your{" "}
          {formatCount(preview.estimate.customers)} customers, picked at random: most likely between{" "}
          {formatCount(preview.estimate.low)} and {formatCount(preview.estimate.high)}. Counting
          everyone takes longer; once saved, the segment keeps its exact members.
        </p>
      ) : null}
      {preview.sample.length > 0 ? (
        <>
          <p className="muted">For example:</p>
          <ul className="segments__sample">
            {preview.sample.map((c) => (
              <li key={c.id}>
                <a href={customersHrefs.customer(c.id)}>{c.externalId}</a>
                {c.email ? <span className="muted"> · {c.email}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function numberOr(value: string, fallback: number | undefined): number | undefined {
  if (value.trim() === "") return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/** A name field of a rule: the picker, named by a label only screen readers read. */
function RuleNamePicker({
  id,
  label,
  value,
  onChange,
  source,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (name: string) => void;
  source: PickerSource;
}) {
  return (
    <span className="segments__name">
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <NamePicker id={id} value={value} onChange={onChange} {...source} />
    </span>
  );
}

function RuleFields({
  n,
  rule,
  onChange,
  segments,
  workspace,
}: {
  n: number;
  rule: Rule;
  onChange: (r: Rule) => void;
  segments: SegmentRow[];
  workspace: WorkspaceCatalog | undefined;
}) {
  const label = (what: string) => `Rule ${n} ${what}`;
  const fieldId = (what: string) => `segment-rule-${n}-${what}`;
  switch (rule.kind) {
    case "attribute": {
      const valueless = rule.op === "exists" || rule.op === "notExists";
      return (
        <span className="segments__words">
          <RuleNamePicker
            id={fieldId("attribute")}
            label={label("attribute")}
            value={rule.property}
            onChange={(property) => onChange({ ...rule, property })}
            source={attributeOptions(workspace)}
          />
          <select
            aria-label={label("comparison")}
            value={rule.op}
            onChange={(e) => onChange({ ...rule, op: e.target.value as ConditionOp })}
          >
            {ConditionOp.options.map((op) => (
              <option key={op} value={op}>
                {OPERATOR_WORDS[op]}
              </option>
            ))}
          </select>
          {valueless ? null : (
            <input
              aria-label={label("value")}
              value={
                typeof rule.value === "string" || typeof rule.value === "number"
                  ? String(rule.value)
                  : ""
              }
              onChange={(e) => onChange({ ...rule, value: e.target.value })}
            />
          )}
        </span>
      );
    }
    case "event": {
      const measure = rule.measure ?? "count";
      return (
        <span className="segments__words">
          <span>has done</span>
          <RuleNamePicker
            id={fieldId("event")}
            label={label("event")}
            value={rule.event}
            onChange={(event) => onChange({ ...rule, event })}
            source={eventOptions(workspace)}
          />
          <select
            aria-label={label("measure")}
            value={measure}
            onChange={(e) =>
              onChange({
                ...rule,
                measure: e.target.value as "count" | "sum" | "last",
                ...(e.target.value === "last"
                  ? { last: "within", withinDays: rule.withinDays ?? 30 }
                  : {}),
              })
            }
          >
            <option value="count">a number of times</option>
            <option value="sum">for a total of a property</option>
            <option value="last">— when last</option>
          </select>
          {measure === "last" ? (
            <>
              <select
                aria-label={label("when")}
                value={rule.last ?? "within"}
                onChange={(e) =>
                  onChange({ ...rule, last: e.target.value as "within" | "notWithin" | "before" })
                }
              >
                <option value="within">in the last</option>
                <option value="notWithin">not at all in the last</option>
                <option value="before">but not in the last</option>
              </select>
              <input
                type="number"
                min={1}
                aria-label={label("days")}
                value={rule.withinDays ?? ""}
                onChange={(e) =>
                  onChange({ ...rule, withinDays: numberOr(e.target.value, undefined) })
                }
              />
              <span>days</span>
            </>
          ) : (
            <>
              {measure === "sum" ? (
                <>
                  <span>of</span>
                  <RuleNamePicker
                    id={fieldId("property")}
                    label={label("property to add up")}
                    value={rule.property ?? ""}
                    onChange={(property) => onChange({ ...rule, property })}
                    source={eventPropertyOptions(workspace, rule.event)}
                  />
                </>
              ) : null}
              <select
                aria-label={label("how many")}
                value={rule.op ?? "gte"}
                onChange={(e) =>
                  onChange({ ...rule, op: e.target.value as keyof typeof COUNT_WORDS })
                }
              >
                {Object.entries(COUNT_WORDS).map(([op, w]) => (
                  <option key={op} value={op}>
                    {measure === "sum" ? `totalling ${w}` : w}
                  </option>
                ))}
              </select>
              <input
                type="number"
                aria-label={label("number")}
                value={rule.value ?? 1}
                onChange={(e) => onChange({ ...rule, value: numberOr(e.target.value, 0) ?? 0 })}
              />
              {measure === "count" ? <span>times</span> : null}
              <select
                aria-label={label("window")}
                value={rule.withinDays === undefined ? "ever" : "last"}
                onChange={(e) => {
                  const { withinDays: _w, olderThanDays: _o, ...rest } = rule;
                  onChange(e.target.value === "ever" ? rest : { ...rest, withinDays: 90 });
                }}
              >
                <option value="last">in the last</option>
                <option value="ever">ever</option>
              </select>
              {rule.withinDays !== undefined ? (
                <>
                  <input
                    type="number"
                    min={1}
                    aria-label={label("days")}
                    value={rule.withinDays}
                    onChange={(e) =>
                      onChange({ ...rule, withinDays: numberOr(e.target.value, undefined) })
                    }
                  />
                  <span>days</span>
                </>
              ) : null}
            </>
          )}
        </span>
      );
    }
    case "segment":
      return (
        <span className="segments__words">
          <select
            aria-label={label("in or not")}
            value={rule.inside === false ? "out" : "in"}
            onChange={(e) => onChange({ ...rule, inside: e.target.value === "in" })}
          >
            <option value="in">is in</option>
            <option value="out">is not in</option>
          </select>
          <select
            aria-label={label("segment")}
            value={rule.segmentId}
            onChange={(e) => onChange({ ...rule, segmentId: e.target.value })}
          >
            <option value="">choose a segment…</option>
            {segments.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </span>
      );
    case "consent":
      return (
        <span className="segments__words">
          <select
            aria-label={label("consent")}
            value={rule.status}
            onChange={(e) =>
              onChange({
                ...rule,
                status: e.target.value as "subscribed" | "unsubscribed" | "never_asked",
              })
            }
          >
            <option value="subscribed">is subscribed to</option>
            <option value="unsubscribed">has unsubscribed from</option>
            <option value="never_asked">was never asked about</option>
          </select>
          <select
            aria-label={label("channel")}
            value={rule.channel}
            onChange={(e) =>
              onChange({ ...rule, channel: e.target.value as "email" | "sms" | "push" })
            }
          >
            <option value="email">email</option>
            <option value="sms">SMS</option>
            <option value="push">push</option>
          </select>
        </span>
      );
  }
}
