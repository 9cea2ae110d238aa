// NamePicker: the one combobox for a name the workspace may have seen — an event name, an event
// property, a customer attribute (issue 16: pickers, not free text). cmdk's list inside a Radix
// popover: the keyboard works as in any combobox (↓ or typing opens it, ↑/↓ move, Enter chooses,
// Escape closes and returns focus), and a name nobody has seen yet can still be typed and chosen,
// with a "never seen yet" warning under the field.
//
// Use (the API is kept small so other areas, e.g. segments, can share it):
//
//   <label htmlFor="event">Event</label>
//   <NamePicker
//     id="event"                      // the <label htmlFor> names the combobox
//     value={name}                    // "" when none is chosen yet
//     onChange={setName}              // called with the chosen (or newly typed) name
//     options={[{ name: "purchase", detail: "in 37 of 5,000 recent events" },
//               { name: "total", type: "number", examples: ["149", "20"] }]}
//     noun="event"                    // "Choose an event…", "Search events or type a new one"
//     observed                        // false: nothing seen yet, so no "never seen yet" warning
//   />
//
// `describedBy` / `invalid` link the field's own errors; the warning is linked as well.
//
// A name may stand for something with a title of its own (a landing page's slug, a coupon pool):
// `label` is then shown in the list and in the field instead of the stored name, `warning` says
// what is wrong with a chosen option ("not published yet"), and `unknownWarning` / `newNote`
// replace the "never seen yet" words for a name outside the options ("no page at this address").
import * as Popover from "@radix-ui/react-popover";
import { Command, defaultFilter } from "cmdk";
import { useId, useState } from "react";
import "./NamePicker.css";

/** One name the workspace has seen, with what the list shows about it. */
export interface NameOption {
  /** What is stored (an event name, a page's address). */
  name: string;
  /** What the list and the field show instead of `name` (a page's title); searched as well. */
  label?: string;
  /** The kind of value ("number", "text", "date"…), shown beside the name. */
  type?: string;
  /** A few values seen, shown as "e.g. gold, silver". */
  examples?: readonly string[];
  /** Anything else worth a glance ("in 37 of 5,000 recent events"). */
  detail?: string;
  /** Shown under the field while this option is chosen (a page that is not published yet). */
  warning?: string;
}

export interface NamePickerProps {
  id?: string;
  value: string;
  onChange: (name: string) => void;
  options: readonly NameOption[];
  /** What a name is, in words: "event", "property", "attribute". */
  noun?: string;
  /** Whether `options` are what the workspace has seen. When false (nothing observed yet), a
   * name outside them gets no warning. Default: true. */
  observed?: boolean;
  disabled?: boolean;
  invalid?: boolean;
  /** Ids of elements describing the field (its errors). */
  describedBy?: string;
  /** The warning under the field for a chosen name outside `options` (observed only). Default:
   * "Never seen yet: no <noun> called “name” has reached this workspace so far…". */
  unknownWarning?: (name: string) => string;
  /** Beside "Use “name”" for a typed name outside `options` (observed only). Default: "never seen yet". */
  newNote?: string;
  /** What the field shows for a chosen name outside `options` (a property typed before any event
   * carried it: "Product tier (purchase event)", not `event.product.tier`). Default: the name. */
  labelOf?: (name: string) => string | undefined;
  /** The list's words when nothing matches the search. Default: "No <noun> seen matches." (or,
   * with no options, "No <noun> has been seen yet: type one.") */
  emptyText?: string;
}

const article = (noun: string) => (/^[aeiou]/i.test(noun) ? "an" : "a");

/** The value of the "Use “typed”" option (never a name: names are what the workspace sent). */
const NEW = "\u0000new:";

/** cmdk's ranking, with "Use “typed”" always listed and always last: a name the workspace has
 * (or a page's title) that matches comes first, and Enter chooses it. */
function rank(value: string, search: string, keywords?: string[]): number {
  return value.startsWith(NEW) ? Number.MIN_VALUE : defaultFilter(value, search, keywords);
}

export function NamePicker({
  id,
  value,
  onChange,
  options,
  noun = "name",
  observed = true,
  disabled,
  invalid,
  describedBy,
  unknownWarning,
  newNote = "never seen yet",
  emptyText,
  labelOf,
}: NamePickerProps) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState("");
  const warningId = useId();
  const typed = search.trim();
  const title = `Choose ${article(noun)} ${noun}`;
  const isKnown = (name: string) => options.some((o) => o.name === name);
  // A title typed as shown (any case) is that option, not a new name.
  const isTitle = (text: string) =>
    options.some((o) => o.label !== undefined && o.label.toLowerCase() === text.toLowerCase());
  const chosen = value === "" ? undefined : options.find((o) => o.name === value);
  const unseen = observed && value !== "" && !chosen;
  const shown = chosen?.label ?? (chosen ? undefined : labelOf?.(value)) ?? value;
  const warning = unseen
    ? (unknownWarning?.(value) ??
      `Never seen yet: no ${noun} called “${shown}” has reached this workspace so far. Check the spelling, or keep it if it is new.`)
    : chosen?.warning;
  const describedByAll = [describedBy, warning ? warningId : undefined].filter(Boolean).join(" ");

  const choose = (name: string) => {
    onChange(name);
    setOpen(false);
    setSearch("");
  };

  return (
    <div className="name-picker">
      <Popover.Root
        open={open}
        onOpenChange={(next) => {
          setOpen(next);
          if (!next) setSearch("");
        }}
      >
        <Popover.Trigger asChild>
          <button
            id={id}
            type="button"
            role="combobox"
            className="name-picker__trigger"
            aria-expanded={open}
            aria-haspopup="listbox"
            aria-invalid={invalid || undefined}
            aria-describedby={describedByAll || undefined}
            disabled={disabled}
            onKeyDown={(e) => {
              if (open || e.altKey || e.ctrlKey || e.metaKey) return;
              if (e.key === "ArrowDown") {
                e.preventDefault();
                setOpen(true);
              } else if (e.key.length === 1 && e.key !== " ") {
                // Typing on the closed field starts a search with that letter.
                e.preventDefault();
                setSearch(e.key);
                setOpen(true);
              }
            }}
          >
            {value === "" ? (
              <span className="name-picker__placeholder">
                Choose {article(noun)} {noun}…
              </span>
            ) : (
              <span className="name-picker__value">{shown}</span>
            )}
          </button>
        </Popover.Trigger>
        <Popover.Portal>
          <Popover.Content
            className="name-picker__popover"
            align="start"
            sideOffset={4}
            // Radix makes the popup a dialog, which needs a name of its own (axe: aria-dialog-name).
            aria-label={title}
          >
            <Command label={title} loop filter={rank}>
              <Command.Input
                value={search}
                onValueChange={setSearch}
                placeholder={`Search ${noun === "property" ? "properties" : `${noun}s`} or type a new one`}
              />
              <Command.List>
                <Command.Empty>
                  {emptyText ??
                    (observed && options.length > 0
                      ? `No ${noun} seen matches.`
                      : `No ${noun} has been seen yet: type one.`)}
                </Command.Empty>
                {options.map((o) => (
                  <Command.Item
                    key={o.name}
                    value={o.name}
                    {...(o.label ? { keywords: [o.label] } : {})}
                    onSelect={() => choose(o.name)}
                    className="name-picker__option"
                  >
                    <span className="name-picker__name">{o.label ?? o.name}</span>
                    {o.type ? <span className="name-picker__type">{o.type}</span> : null}
                    {o.examples && o.examples.length > 0 ? (
                      <span className="name-picker__examples">e.g. {o.examples.join(", ")}</span>
                    ) : null}
                    {o.detail ? <span className="name-picker__detail">{o.detail}</span> : null}
                  </Command.Item>
                ))}
                {typed !== "" && !isKnown(typed) && !isTitle(typed) ? (
                  <Command.Item
                    // Always listed while typing (last): the way to use a name nobody has sent yet.
                    value={`${NEW}${typed}`}
                    onSelect={() => choose(typed)}
                    className="name-picker__option name-picker__option--new"
                  >
                    Use “{typed}”
                    {observed ? <span className="name-picker__detail"> — {newNote}</span> : null}
                  </Command.Item>
                ) : null}
              </Command.List>
            </Command>
          </Popover.Content>
        </Popover.Portal>
      </Popover.Root>
      {warning ? (
        <p className="name-picker__warning" id={warningId}>
          {warning}
        </p>
      ) : null}
    </div>
  );
}
