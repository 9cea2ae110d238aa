// 5. A/B test: two subject lines 45/45 with a 10% holdout; conversion goal = second purchase.
import { draftFromSteps } from "../builder.ts";
import type { GalleryTemplate } from "./types.ts";

const body =
  "<p>Hi {{ first_name }}, we picked a few things that go well with your {{ event.product.name }}.</p>";

export const abTest: GalleryTemplate = {
  id: "ab-test",
  name: "A/B test: subject lines",
  description:
    "Two days after a purchase, test two subject lines on 45% of customers each and keep 10% as a holdout; a second purchase within 14 days counts as a conversion.",
  draft: draftFromSteps([
    {
      id: "purchase",
      type: "trigger.event",
      data: { label: "Purchase", event: "purchase" },
      next: "wait-2d",
    },
    { id: "wait-2d", type: "wait.duration", data: { amount: 2, unit: "days" }, next: "split" },
    {
      id: "split",
      type: "split.random",
      data: {
        label: "Subject line test",
        variants: [
          { id: "a", label: "Question", percent: 45 },
          { id: "b", label: "Benefit", percent: 45 },
        ],
        holdout: 10,
      },
      next: { a: "email-a", b: "email-b", holdout: "window" },
    },
    {
      id: "email-a",
      type: "action.email",
      data: { label: "Subject A", subject: "{{ first_name }}, ready for round two?", body },
      next: "window",
    },
    {
      id: "email-b",
      type: "action.email",
      data: {
        label: "Subject B",
        subject: "Picked for you: what goes with your {{ event.product.name }}",
        body,
      },
      next: "window",
    },
    {
      id: "window",
      type: "wait.duration",
      data: { label: "Conversion window", amount: 14, unit: "days" },
      next: "done",
    },
    { id: "done", type: "flow.exit" },
    {
      id: "second-purchase",
      type: "flow.goal",
      data: { label: "Second purchase", name: "second purchase", event: "purchase" },
    },
  ]),
};
