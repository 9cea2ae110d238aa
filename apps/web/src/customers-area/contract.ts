// issue 16: the shapes the Customers area reads from the API (`customers.*`). `contract-check.ts`
// proves at compile time that the real router's outputs fit these.
export type SearchKind = "id" | "email" | "phone" | "attribute";

export interface CustomerRow {
  id: string;
  externalId: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  updatedAt: string;
}

export interface SearchPage {
  by: SearchKind;
  items: CustomerRow[];
  nextCursor: string | null;
}

export interface ConsentLine {
  channel: string;
  label: string;
  status: "subscribed" | "unsubscribed" | "never asked";
  source: string | null;
  changedAt: string | null;
}

export interface CustomerProfile {
  id: string;
  externalId: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  timezone: string | null;
  createdAt: string;
  updatedAt: string;
  attributes: { key: string; value: string }[];
  tags: string[];
  consent: ConsentLine[];
  counts: { events: number; runs: number };
}

export interface TimelinePage {
  items: {
    id: string;
    name: string;
    timestamp: string;
    properties: { key: string; value: string }[];
  }[];
  nextCursor: string | null;
}

export interface RunMessage {
  id: string;
  stepName: string | null;
  channel: string;
  channelWords: string;
  status: string;
  statusWords: string;
  recipient: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface CustomerRun {
  id: string;
  journeyId: string;
  journeyName: string;
  versionNumber: number | null;
  status: string;
  statusWords: string;
  currentStep: string | null;
  startedAt: string;
  endedAt: string | null;
  trace: {
    id: string;
    at: string;
    stepName: string | null;
    text: string;
    /** When a wait or hold ends (ISO), shown in local time after the text. */
    until: string | null;
    messageId: string | null;
  }[];
  messages: RunMessage[];
}

export interface RunsPage {
  items: CustomerRun[];
  nextCursor: string | null;
}

export interface RenderedMessage {
  id: string;
  channel: string;
  channelWords: string;
  status: string;
  statusWords: string;
  recipient: string | null;
  error: string | null;
  createdAt: string;
  sentAt: string | null;
  subject: string | null;
  title: string | null;
  text: string | null;
  html: string | null;
  fromName: string | null;
  details: { key: string; value: string }[];
}
