// issue 14: the page editor (Puck with @postpath/pages' blocks) against a fake API at the HTTP
// boundary: it starts from the server's latest draft, saves edits naming the revision it loaded,
// says so when someone else saved first, and publishes the saved draft.
import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { createTRPCClient } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { AppRouter } from "../trpc.ts";
import { renderApp } from "../test/renderApp.tsx";
import { marketer } from "../test/users.ts";
import {
  ApiError,
  draftWithHeading,
  fakePagesServer,
  pageDetail,
  letPuckTimersFire,
} from "./testServer.ts";

afterAll(letPuckTimersFire);
afterEach(() => {
  vi.unstubAllGlobals();
});

/** Selects the page's heading block in Puck's outline; its fields open in the sidebar. */
async function selectHeading(): Promise<HTMLInputElement> {
  const layer = await waitFor(() => {
    const el = document.querySelector<HTMLButtonElement>(
      '[data-puck-layer-tree-id="heading-1"] button[class*="Layer-clickable"]',
    );
    if (!el) throw new Error("the outline does not list the heading yet");
    return el;
  });
  act(() => layer.click());
  return waitFor(() => {
    const input = document.querySelector<HTMLInputElement>('input[name="text"]');
    if (!input) throw new Error("the heading's fields are not shown yet");
    return input;
  });
}

function typeInto(input: HTMLInputElement, value: string) {
  fireEvent.change(input, { target: { value } });
}

describe("page editor", () => {
  it("starts from the server's latest draft, not a cached one, and saves edits with its revision", async () => {
    const server = fakePagesServer([
      pageDetail({ revision: 3, draft: draftWithHeading("Hello from revision 3") }),
    ]);
    window.location.hash = "#/pages";
    const { queryClient } = renderApp({ me: marketer });
    await screen.findByRole("link", { name: "Machine registration" });
    // The cache holds an older copy, as after an earlier visit in this tab.
    const trpc = createTRPCOptionsProxy<AppRouter>({
      client: createTRPCClient<AppRouter>({ links: [] }),
      queryClient,
    });
    queryClient.setQueryData(
      trpc.pages.get.queryKey({ id: "pg1" }),
      pageDetail({ revision: 1, draft: draftWithHeading("Old cached heading") }),
    );
    fireEvent.click(screen.getByRole("link", { name: "Machine registration" }));

    const text = await selectHeading();
    expect(text.value).toBe("Hello from revision 3");
    expect(document.querySelector(".save")?.textContent).toBe("Saved");
    expect(server.callsTo("pages.save")).toEqual([]);

    typeInto(text, "Welcome, {{ customer.first_name }}!");
    await screen.findByText("Unsaved changes…");
    await waitFor(() => expect(server.callsTo("pages.save")).toHaveLength(1));
    await screen.findByText("Saved");
    const [save] = server.callsTo("pages.save");
    expect(save?.input).toMatchObject({ id: "pg1", revision: 3 });
    expect(server.page("pg1")?.revision).toBe(4);
    expect(server.page("pg1")?.draft.content[0]?.props).toMatchObject({
      id: "heading-1",
      text: "Welcome, {{ customer.first_name }}!",
    });
    // The preview draws sample values and says so (walk: it showed raw Liquid; pagePreview.test.tsx
    // checks the drawing — Puck's preview iframe is not drawn under jsdom).
    expect(screen.getByRole("note").textContent).toContain("sample values");

    // The next save names the revision the last one produced.
    typeInto(text, "Welcome back");
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(server.callsTo("pages.save")).toHaveLength(2));
    await screen.findByText("Saved");
    expect(server.callsTo("pages.save")[1]?.input).toMatchObject({ revision: 4 });
    expect(server.page("pg1")?.revision).toBe(5);
  });

  it("says so when someone else saved first, and loads their version", async () => {
    const server = fakePagesServer([pageDetail({ revision: 2 })]);
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    const text = await selectHeading();
    // Another tab saves in between.
    server.saveElsewhere("pg1", draftWithHeading("Their heading"));

    typeInto(text, "My heading");
    const alert = await screen.findByText(
      /Someone else changed this page — load the latest version/,
    );
    expect(alert.getAttribute("role")).toBe("alert");
    expect(server.callsTo("pages.save").map((c) => c.input)).toMatchObject([{ revision: 2 }]);
    expect(server.page("pg1")?.draft.content[0]?.props).toMatchObject({ text: "Their heading" });
    // Nothing more is sent while the conflict stands, and Publish waits for it to be resolved.
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Publish" }).disabled).toBe(true);

    fireEvent.click(screen.getByRole("button", { name: "Load the latest version" }));
    await waitFor(() =>
      expect(screen.queryByRole("button", { name: "Load the latest version" })).toBeNull(),
    );
    const reloaded = await selectHeading();
    expect(reloaded.value).toBe("Their heading");
    typeInto(reloaded, "Our heading, agreed");
    await waitFor(() => expect(server.page("pg1")?.revision).toBe(4));
    expect(server.callsTo("pages.save").map((c) => c.input)).toMatchObject([
      { revision: 2 },
      { revision: 3 },
    ]);
  });

  it("publishes the saved draft (saving pending edits first) and shows the version", async () => {
    const server = fakePagesServer([pageDetail({ revision: 1 })]);
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    const text = await selectHeading();
    typeInto(text, "Register your machine");
    fireEvent.click(screen.getByRole("button", { name: "Publish" }));
    const notice = await screen.findByText(/Published as version 1\./);
    // Styled as the page editor's own notice (it had the journey editor's unstyled class).
    expect(notice.className).toBe("page-editor__notice");
    const order = server.calls
      .map((c) => c.path)
      .filter((p) => p === "pages.save" || p === "pages.publish");
    expect(order).toEqual(["pages.save", "pages.publish"]);
    expect(server.page("pg1")?.publishedVersion).toBe(1);
    await screen.findByText(/Published v1/);
  });

  it("shows why the server refused to publish, naming the block", async () => {
    fakePagesServer([pageDetail({ revision: 1 })], {
      "pages.publish": () => {
        throw new ApiError(
          "BAD_REQUEST",
          "The page has 1 problem(s) to fix before publishing: Form “registration”: Add at least one field to the form.",
        );
      },
    });
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    await selectHeading();
    fireEvent.click(screen.getByRole("button", { name: "Publish" }));
    const alert = await screen.findByText(
      /Not published: .*Form “registration”: Add at least one field/,
    );
    expect(alert.closest('[role="alert"]')).not.toBeNull();
  });

  it("renames the page with the draft's revision; the list shows the new name", async () => {
    const server = fakePagesServer([pageDetail({ revision: 5 })]);
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    await selectHeading();
    fireEvent.click(screen.getByRole("button", { name: "Rename" }));
    const input = screen.getByLabelText<HTMLInputElement>("Page name");
    fireEvent.change(input, { target: { value: "   " } });
    expect(screen.getByText("Give the page a name.")).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Save name" }).disabled).toBe(
      true,
    );
    fireEvent.change(input, { target: { value: "Coffee machine registration" } });
    fireEvent.click(screen.getByRole("button", { name: "Save name" }));
    await screen.findByRole("heading", { level: 1, name: "Coffee machine registration" });
    expect(server.callsTo("pages.save").map((c) => c.input)).toMatchObject([
      { id: "pg1", revision: 5, name: "Coffee machine registration" },
    ]);
    expect(server.page("pg1")?.name).toBe("Coffee machine registration");
    fireEvent.click(screen.getByRole("link", { name: "← Pages" }));
    expect(await screen.findByRole("link", { name: "Coffee machine registration" })).toBeTruthy();
  });

  it("shows a viewer the page read-only: no rename, save or publish", async () => {
    const server = fakePagesServer([pageDetail()]);
    window.location.hash = "#/pages/pg1";
    renderApp({ me: { ...marketer, role: "VIEWER" } });
    await screen.findByText("Read only");
    expect(screen.getByRole("heading", { level: 1, name: "Machine registration" })).toBeTruthy();
    for (const name of ["Rename", "Save", "Publish"])
      expect(screen.queryByRole("button", { name })).toBeNull();
    fireEvent.click(screen.getByRole("link", { name: "← Pages" }));
    await screen.findByRole("link", { name: "Machine registration" });
    expect(screen.queryByRole("button", { name: "New page" })).toBeNull();
    expect(server.callsTo("pages.save")).toEqual([]);
  });

  it("saves an edit still waiting for autosave when the marketer leaves for the list", async () => {
    const server = fakePagesServer([pageDetail({ revision: 1 })]);
    window.location.hash = "#/pages/pg1";
    renderApp({ me: marketer });
    const text = await selectHeading();
    typeInto(text, "Left in a hurry");
    await screen.findByText("Unsaved changes…");
    fireEvent.click(screen.getByRole("link", { name: "← Pages" }));
    await screen.findByRole("heading", { level: 1, name: "Pages" });
    await waitFor(() => expect(server.page("pg1")?.revision).toBe(2));
    expect(server.page("pg1")?.draft.content[0]?.props).toMatchObject({ text: "Left in a hurry" });
  });
});
