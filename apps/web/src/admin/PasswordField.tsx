// issue 12: the one "choose a password" field. The server checks strength (zxcvbn with the
// person's email and name) and its message, which says why and what to do, shows under the field.
import { useId } from "react";

export function NewPasswordField({
  label = "Choose a password",
  value,
  onChange,
  error,
}: {
  label?: string;
  value: string;
  onChange: (value: string) => void;
  /** The server's message about this field, if it refused it. */
  error?: string | null;
}) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="new-password"
        aria-describedby={`${id}-hint`}
        aria-invalid={error ? true : undefined}
      />
      <small id={`${id}-hint`} className="muted">
        A few unrelated words work well. Not your name or email, and not a common password.
      </small>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}

/** The message the server gave for one input field (`data.fieldErrors`), if any. */
export function fieldMessage(
  error: { message: string; data?: unknown } | null,
  field: string,
): string | null {
  const data = error?.data;
  if (typeof data !== "object" || data === null || !("fieldErrors" in data)) return null;
  if (!Array.isArray(data.fieldErrors)) return null;
  for (const f of data.fieldErrors as unknown[]) {
    if (typeof f === "object" && f !== null && "path" in f && "message" in f && f.path === field)
      return typeof f.message === "string" ? f.message : null;
  }
  return null;
}
