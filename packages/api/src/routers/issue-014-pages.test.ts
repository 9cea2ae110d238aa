// issue 14: the pages router on real Postgres — create (slug unique per workspace), save with
// optimistic concurrency, publish with validation that names the block, immutable versions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../router.ts";
import { openApiTestEnv, rejects, TWO_WORKSPACES, type ApiTestEnv } from "../testing.ts";

const formDoc = (fields: { name: string; label: string; type: string }[]) => ({
  root: { props: { title: "Register" } },
  content: [
    { type: "Heading", props: { id: "h", text: "Hi {{ customer.first_name }}" } },
    {
      type: "Form",
      props: { id: "f", formId: "registration", submitLabel: "Send", fields },
    },
  ],
});

describe("pages router (issue 14)", () => {
  let env: ApiTestEnv<"a" | "b" | "viewer">;
  beforeAll(async () => {
    env = await openApiTestEnv(TWO_WORKSPACES, { prefix: "pages" });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("creates pages with a unique address per workspace; viewers read, cannot write", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.pages.create({ name: "Welcome", slug: "welcome" });
    expect((await rejects(a.pages.create({ name: "Again", slug: "welcome" }))).message).toContain(
      "already uses the address “welcome”",
    );
    expect((await rejects(a.pages.create({ name: "Bad", slug: "Not A Slug" }))).code).toBe(
      "BAD_REQUEST",
    );
    // Another workspace may use the same address.
    await createCaller(env.ctxFor(env.users.b)).pages.create({ name: "W", slug: "welcome" });
    const viewer = createCaller(env.ctxFor(env.users.viewer));
    expect((await viewer.pages.list()).map((p) => p.id)).toContain(id);
    expect((await viewer.pages.get({ id })).draft.content).toHaveLength(1);
    expect((await rejects(viewer.pages.publish({ id }))).code).toBe("FORBIDDEN");
  });

  it("refuses a save based on an older revision (two tabs) instead of overwriting", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id, revision } = await a.pages.create({ name: "Tabs", slug: "tabs" });
    const doc = formDoc([{ name: "email", label: "Email", type: "email" }]);
    expect((await a.pages.save({ id, revision, draft: doc })).revision).toBe(revision + 1);
    const err = await rejects(a.pages.save({ id, revision, draft: { content: [], root: {} } }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toContain("changed in another tab or by someone else");
    expect((await a.pages.get({ id })).draft.content).toHaveLength(2);
    // A draft that is not a block document is refused with a message, not stored.
    expect((await rejects(a.pages.save({ id, revision: 1, draft: { nodes: [] } }))).code).toBe(
      "BAD_REQUEST",
    );
  });

  it("publishes numbered immutable versions and refuses documents with problems, naming the block", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.pages.create({ name: "Reg", slug: "reg" });
    await a.pages.save({
      id,
      revision: 0,
      draft: formDoc([
        { name: "email", label: "Email", type: "email" },
        { name: "email", label: "Email again", type: "text" },
        { name: "model", label: "Model", type: "select" },
      ]),
    });
    const err = await rejects(a.pages.publish({ id }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("Form “registration”");
    expect(err.message).toContain("Two fields are named “email”");
    expect(err.message).toContain("needs at least one option");
    await a.pages.save({
      id,
      revision: 1,
      draft: formDoc([{ name: "email", label: "Email", type: "email" }]),
    });
    expect((await a.pages.publish({ id })).version).toBe(1);
    await a.pages.save({
      id,
      revision: 2,
      draft: formDoc([{ name: "serial", label: "Serial", type: "text" }]),
    });
    expect((await a.pages.publish({ id })).version).toBe(2);
    const got = await a.pages.get({ id });
    expect(got.publishedVersion).toBe(2);
    expect(got.versions.map((v) => v.version)).toEqual([2, 1]);
    // Version 1 is kept as it was published, with every prop filled in.
    const v1 = await env.db.prisma.pageVersion.findFirstOrThrow({
      where: { pageId: id, version: 1 },
    });
    expect(JSON.stringify(v1.document)).toContain('"name":"email"');
    expect(JSON.stringify(v1.document)).toContain('"required":false');
    // Another workspace cannot see or publish it.
    const b = createCaller(env.ctxFor(env.users.b));
    expect((await rejects(b.pages.get({ id }))).code).toBe("NOT_FOUND");
    expect((await rejects(b.pages.publish({ id }))).code).toBe("NOT_FOUND");
  });

  it("refuses an empty page and a Liquid mistake, naming where", async () => {
    const a = createCaller(env.ctxFor(env.users.a));
    const { id } = await a.pages.create({
      name: "Empty",
      slug: "empty",
      draft: { content: [], root: { props: {} } },
    });
    expect((await rejects(a.pages.publish({ id }))).message).toContain(
      "Add at least one block to the page.",
    );
    await a.pages.save({
      id,
      revision: 0,
      draft: {
        root: { props: {} },
        content: [{ type: "Heading", props: { id: "h", text: "Hi {{ name | nosuch }}" } }],
      },
    });
    expect((await rejects(a.pages.publish({ id }))).message).toMatch(/Heading “Hi .*”: The text/);
  });
});
