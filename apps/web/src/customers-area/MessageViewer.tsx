// issue 16: a message as the customer got it — subject and text, and an email's HTML in a
// sandboxed frame (no scripts, no forms, no same-origin access, and no remote loads, so looking at
// it neither runs its code nor counts as an open).
import { useQuery } from "@tanstack/react-query";
import { Dialog } from "../components/Dialog.tsx";
import { formatDateTime } from "../format.ts";
import { errorMessage, useTRPC } from "../trpc.ts";

/** Blocks everything but inline styles and inline images inside the frame. */
const FRAME_POLICY =
  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">";

export function emailFrameDoc(html: string): string {
  return `<!doctype html><html><head>${FRAME_POLICY}<base target="_blank"></head><body>${html}</body></html>`;
}

export function MessageViewer({ id, onClose }: { id: string; onClose: () => void }) {
  const trpc = useTRPC();
  const message = useQuery(trpc.customers.message.queryOptions({ id }));
  const m = message.data;
  return (
    <Dialog
      title={m ? `${m.channelWords[0]?.toUpperCase()}${m.channelWords.slice(1)}` : "Message"}
      onClose={onClose}
    >
      {message.isPending ? (
        <p role="status">Loading the message…</p>
      ) : message.isError ? (
        <p className="form-error" role="alert">
          Could not load the message: {errorMessage(message.error)}
        </p>
      ) : m ? (
        <div className="customers__message">
          <dl className="customers__fields">
            <dt>Status</dt>
            <dd>
              {m.statusWords}
              {m.sentAt ? ` · ${formatDateTime(m.sentAt)}` : ""}
            </dd>
            {m.recipient ? (
              <>
                <dt>To</dt>
                <dd>{m.recipient}</dd>
              </>
            ) : null}
            {m.fromName ? (
              <>
                <dt>From</dt>
                <dd>{m.fromName}</dd>
              </>
            ) : null}
            {m.subject !== null ? (
              <>
                <dt>Subject</dt>
                <dd>{m.subject}</dd>
              </>
            ) : null}
            {m.title !== null ? (
              <>
                <dt>Title</dt>
                <dd>{m.title}</dd>
              </>
            ) : null}
            {m.error ? (
              <>
                <dt>Why</dt>
                <dd>{m.error}</dd>
              </>
            ) : null}
            {m.details.map((d) => (
              <div key={d.key} className="customers__field">
                <dt>{d.key}</dt>
                <dd>{d.value}</dd>
              </div>
            ))}
          </dl>
          {m.html ? (
            <iframe
              className="customers__frame"
              title="The email as sent"
              sandbox=""
              srcDoc={emailFrameDoc(m.html)}
            />
          ) : m.text ? (
            <pre className="customers__text">{m.text}</pre>
          ) : (
            <p className="muted">Nothing was rendered for this message.</p>
          )}
        </div>
      ) : null}
      <div className="dialog__actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
