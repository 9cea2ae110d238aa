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
import * as Popover from "@radix-ui/react-popover";
import { Command } from "cmdk";
import { useId, useState } from "react";
import "./NamePicker.css";

/** One name the workspace has seen, with what the list shows about it. */
export interface NameOption {
  name: string;
  /** The kind of value ("number", "text", "date"…), shown beside the name. */
  type?: string;
  /** A few values seen, shown as "e.g. gold, silver". */
  examples?: readonly string[];
  /** Anything else worth a glance ("in 37 of 5,000 recent events"). */
  detail?: string;
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
}

const article = (noun: string) => (/^[aeiou]/i.test(noun) ? "an" : "a");

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
}: NamePickerProps) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState("");
  const warningId = useId();
  const typed = search.trim();
  const title = `Choose ${article(noun)} ${noun}`;
  const isKnown = (name: string) => options.some((o) => o.name === name);
  const unseen = observed && value !== "" && !isKnown(value);
  const describedByAll = [describedBy, unseen ? warningId : undefined].filter(Boolean).join(" ");

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
              <span className="name-picker__value">{value}</span>
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
            <Command label={title} loop>
              <Command.Input
                value={search}
                onValueChange={setSearch}
                placeholder={`Search ${noun === "property" ? "properties" : `${noun}s`} or type a new one`}
              />
              <Command.List>
                <Command.Empty>
                  {observed && options.length > 0
                    ? `No ${noun} seen matches.`
                    : `No ${noun} has been seen yet: type one.`}
                </Command.Empty>
                {options.map((o) => (
                  <Command.Item
                    key={o.name}
                    value={o.name}
                    onSelect={() => choose(o.name)}
                    className="name-picker__option"
                  >
                    <span className="name-picker__name">{o.name}</span>
                    {o.type ? <span className="name-picker__type">{o.type}</span> : null}
                    {o.examples && o.examples.length > 0 ? (
                      <span className="name-picker__examples">e.g. {o.examples.join(", ")}</span>
                    ) : null}
                    {o.detail ? <span className="name-picker__detail">{o.detail}</span> : null}
                  </Command.Item>
                ))}
                {typed !== "" && !isKnown(typed) ? (
                  <Command.Item
                    // Always listed while typing: the way to use a name nobody has sent yet.
                    forceMount
                    value={`\u0000new:${typed}`}
                    onSelect={() => choose(typed)}
                    className="name-picker__option name-picker__option--new"
                  >
                    Use “{typed}”
                    {observed ? (
                      <span className="name-picker__detail"> — never seen yet</span>
                    ) : null}
                  </Command.Item>
                ) : null}
              </Command.List>
            </Command>
          </Popover.Content>
        </Popover.Portal>
      </Popover.Root>
      {unseen ? (
        <p className="name-picker__warning" id={warningId}>
          Never seen yet: no {noun} called “{value}” has reached this workspace so far. Check the
          spelling, or keep it if it is new.
        </p>
      ) : null}
    </div>
  );
}
